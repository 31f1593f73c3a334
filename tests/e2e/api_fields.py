"""Checks answers the gateway gave against docs/openapi.yaml, field by field.

    api_fields.py SPEC DIR OPERATION...

DIR holds OPERATION.json files, each one or more answers of that operation (a JSON value per
line, or one JSON document). For every OPERATION named, the schema of its success answer is
read from the specification, and:
  - every property it documents must appear in at least one of the answers (nested objects and
    arrays of objects too, where their parent appears), so that no documented field is a promise
    the gateway does not keep;
  - every field an answer carries must be documented, so that scripts can rely on the document.
Prints one line per problem and exits 1 if there is any.
"""
import json
import pathlib
import sys

import yaml

spec = yaml.safe_load(open(sys.argv[1]))
folder = pathlib.Path(sys.argv[2])
operations = sys.argv[3:]


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def properties(schema):
    """The documented properties of an object schema, allOf merged."""
    schema = resolve(schema)
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(properties(part))
    return props


def success_schema(operation):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") != operation:
                continue
            for code, response in op.get("responses", {}).items():
                if not str(code).startswith("2"):
                    continue
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                for content_type, content in (response.get("content") or {}).items():
                    if "json" in content_type:
                        return content["schema"]
    sys.exit(f"no JSON success answer documented for {operation}")


def load(path):
    text = path.read_text()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


problems = []
documented = {}  # a schema (by name, or by where it is inline) -> its documented properties
carried = {}  # the same -> the properties some answer carried


def owners(schema, where):
    """(key, properties) for each schema that defines properties of this object: a named schema
    counts once whichever operation answers with it, and allOf parts count as their own."""
    name = schema["$ref"].split("/")[-1] if isinstance(schema, dict) and "$ref" in schema else None
    schema = resolve(schema)
    found = []
    if schema.get("properties"):
        found.append((name or where, schema["properties"]))
    for i, part in enumerate(schema.get("allOf") or []):
        found.extend(owners(part, f"{name or where}.allOf{i}"))
    return found


def check(where, schema, values):
    """`values`: every JSON value the gateway gave at this place of the schema."""
    resolved = resolve(schema)
    if resolved.get("type") == "array" or "items" in resolved:
        items = [item for value in values if isinstance(value, list) for item in value]
        if values and not items and properties(resolved.get("items", {})):
            problems.append(f"{where}: every list was empty, so its items were not checked")
        check(where + "[]", resolved.get("items", {}), items)
        return
    objects = [v for v in values if isinstance(v, dict)]
    every = properties(schema)
    if not every or not objects:
        return
    for o in objects:
        for name in o:
            if name not in every:
                problems.append(f"{where}.{name}: in an answer, but not documented")
    for key, props in owners(schema, where):
        documented.setdefault(key, set()).update(props)
        for name, sub in props.items():
            present = [o[name] for o in objects if name in o]
            if present:
                carried.setdefault(key, set()).add(name)
                check(f"{key}.{name}", sub, present)


for operation in operations:
    path = folder / f"{operation}.json"
    if not path.exists():
        problems.append(f"{operation}: no answer was captured")
        continue
    check(operation, success_schema(operation), load(path))

for key in sorted(documented):
    for name in sorted(documented[key] - carried.get(key, set())):
        problems.append(f"{key}.{name}: documented, but no answer carried it")
seen = set()
for p in problems:
    if p not in seen:
        print("FAIL -", p)
        seen.add(p)
print(f"api fields: {len(operations)} operations, {len(seen)} problem(s)")
sys.exit(1 if seen else 0)
