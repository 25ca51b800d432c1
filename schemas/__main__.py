"""``python -m schemas`` regenerates the JSON Schema files from the contract structs."""

from schemas import write_json_schemas

for path in write_json_schemas():
    print(path)
