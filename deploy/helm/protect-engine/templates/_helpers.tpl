{{- define "protect.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "protect.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "protect.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "protect.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "protect.selectorLabels" -}}
app.kubernetes.io/name: {{ include "protect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "protect.labels" -}}
{{ include "protect.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "protect.passwordSecret" -}}
{{- if .Values.kafka.saslPassword.existingSecret -}}
{{- .Values.kafka.saslPassword.existingSecret -}}
{{- else -}}
{{- printf "%s-kafka" (include "protect.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- /* The Secret holding the analyst token and the package key. */ -}}
{{- define "protect.engineSecret" -}}
{{- if .Values.analyst.existingSecret -}}
{{- .Values.analyst.existingSecret -}}
{{- else -}}
{{- printf "%s-analyst" (include "protect.fullname" .) -}}
{{- end -}}
{{- end -}}
