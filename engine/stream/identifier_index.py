"""The identifier index as a Faust agent: observations in, findings out.

Profiles announce their identifiers on the identifiers topic (keyed by the identifier's
digest, so one partition sees every holder of an identifier); the agent keeps the holders
in a changelog-backed table and, once ``shared_identifier_min_holders`` customers share
one, publishes a finding per holder (keyed by customer id) that the firehose folds into
state. The logic is :func:`engine.crosscustomer.identifiers.update_holders`.
"""

from __future__ import annotations

import msgspec

from engine.crosscustomer.identifiers import Observation, update_holders

_OBS = msgspec.json.Decoder(Observation)
_ENCODER = msgspec.json.Encoder()


def install_identifier_index(app, settings) -> None:
    """The Faust agent and table of the second stage, on ``app``."""
    raw = {
        "key_type": bytes,
        "value_type": bytes,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "partitions": settings.partitions,
    }
    observations = app.topic(settings.identifiers_topic, **raw)
    findings = app.topic(settings.findings_topic, **raw)
    table = app.Table(
        "identifier-holders",
        default=dict,
        partitions=settings.partitions,
        key_type=str,
        value_type=None,
    )

    @app.agent(observations)
    async def index_identifiers(stream):
        async for value in stream:
            try:
                observation = _OBS.decode(value)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # produced by this engine only; nothing a person could act on
            entry, new = update_holders(
                table[observation.identifier], observation, settings.shared_identifier_min_holders
            )
            table[observation.identifier] = entry
            for finding in new:
                await findings.send(
                    key=finding.customer_id.encode(), value=_ENCODER.encode(finding)
                )
