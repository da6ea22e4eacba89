#!/usr/bin/env python3
"""Checks plumb's resource schemas (schemas/aws-*.json) against AWS's own CloudFormation
resource provider schemas, as shipped with cfn-lint, and checks schemas/plumb.schema.json.

For every type: the document is JSON with the keys schemas/README.md lists and only the
JSON Schema keywords plumb's validator reads; every property declared (recursively, through
definitions) exists in AWS's schema with the same type, enum, pattern, ranges, lengths and
required members; create-only, read-only and write-only pointers and the primary identifier
are AWS's, restricted to what plumb declares; the "plumb" block is well formed (service with
a botocore model, tagging property declared, defaults naming declared properties, attributes
equal to the read-only properties...).

Standard library only. Run by ctest as `python3 FILE`; PLUMB_SOURCE_DIR gives the repository
(else it is found from this file). Without cfn-lint the comparison cannot run: the test says
so and passes. The last line is "schemas: N passed, M failed" (N, M: types); the exit status
is non-zero when anything failed.
"""
import ast
import importlib.util
import json
import os
import re
import subprocess
import sys

ROOT = os.environ.get("PLUMB_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(ROOT, "schemas")

TYPES = [
    "AWS::ECR::Repository", "AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::ECS::Service",
    "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::EC2::InternetGateway",
    "AWS::RDS::DBSubnetGroup", "AWS::RDS::DBInstance", "AWS::S3::Bucket", "AWS::S3::BucketPolicy",
    "AWS::IAM::Role", "AWS::IAM::OIDCProvider", "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup", "AWS::AppRunner::Service", "AWS::AppRunner::AutoScalingConfiguration",
    "AWS::DynamoDB::Table",
]
# Types holding data: protected environments refuse to delete or replace them.
STATEFUL = {"AWS::ECR::Repository", "AWS::RDS::DBInstance", "AWS::S3::Bucket",
            "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table"}
SERVICES = {"sts", "iam", "ecr", "ecs", "elbv2", "rds", "s3", "ec2", "secretsmanager", "logs",
            "apprunner", "dynamodb"}

TOP_REQUIRED = ["typeName", "description", "properties", "definitions", "required",
                "createOnlyProperties", "readOnlyProperties", "writeOnlyProperties",
                "primaryIdentifier", "plumb"]
TOP_ALLOWED = set(TOP_REQUIRED) | {"additionalProperties"}
KEYWORDS = {"type", "enum", "items", "properties", "required", "pattern", "minimum", "maximum",
            "minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
            "additionalProperties", "description", "default", "$ref", "oneOf"}
JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array"}
COMPARED = ["enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems",
            "maxItems", "default"]
STRING_ONLY = {"pattern", "minLength", "maxLength"}
PLUMB_REQUIRED = ["service", "stateful", "tagging", "sensitiveProperties", "defaults",
                  "timeouts", "attributes"]
PLUMB_ALLOWED = set(PLUMB_REQUIRED) | {"nameProperty", "description", "unorderedArrays",
                                       "partialArrays",
                                       "conditionalCreateOnlyProperties"}


def file_name(type_name):
    return type_name.lower().replace("::", "-") + ".json"


# ---------------------------------------------------------------------------------------------
# AWS's schemas and models

def cfnlint_schema_dir():
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.origin:
        return None
    return os.path.join(os.path.dirname(spec.origin), "data", "schemas")


_TYPE_MAP = {}


def load_aws_schema(base, type_name):
    """cfn-lint < 1.3x: providers/us_east_1/<file>.json; newer: a type → hash map in
    providers/us_east_1.py and the documents in resources/<hash>.json."""
    old = os.path.join(base, "providers", "us_east_1", file_name(type_name))
    if os.path.exists(old):
        with open(old, encoding="utf-8") as f:
            return json.load(f)
    if not _TYPE_MAP:
        with open(os.path.join(base, "providers", "us_east_1.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
            if isinstance(target, ast.Name) and target.id == "types":
                _TYPE_MAP.update(ast.literal_eval(node.value))
    if type_name not in _TYPE_MAP:
        raise KeyError("cfn-lint has no schema for " + type_name)
    with open(os.path.join(base, "resources", _TYPE_MAP[type_name] + ".json"),
              encoding="utf-8") as f:
        return json.load(f)


def model_exists(service):
    """The service's API model: botocore's (when installed) and the trimmed copy the build
    embeds (src/aws/models)."""
    problems = []
    spec = importlib.util.find_spec("botocore")
    if spec is not None and spec.origin:
        d = os.path.join(os.path.dirname(spec.origin), "data", service)
        if not os.path.isdir(d):
            problems.append("botocore has no model for service '%s'" % service)
    ours = os.path.join(ROOT, "src", "aws", "models", service + ".json")
    if not os.path.exists(ours):
        problems.append("no embedded API model src/aws/models/%s.json" % service)
    return problems


# ---------------------------------------------------------------------------------------------
# Schema helpers

def deref(node, definitions, merge=True):
    """Follows #/definitions refs; sibling keywords of a $ref override (AWS uses them)."""
    hops = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/definitions/"):
            raise ValueError("unsupported $ref " + ref)
        target = definitions.get(ref[len("#/definitions/"):])
        if target is None:
            raise ValueError("dangling $ref " + ref)
        if merge:
            merged = dict(target)
            merged.update({k: v for k, v in node.items() if k != "$ref"})
            node = merged
        else:
            node = target
        hops += 1
        if hops > 32:
            raise ValueError("$ref loop at " + ref)
    return node


def declared(pointer, doc):
    """Whether CloudFormation pointer "/properties/A/*/B" names a property of `doc`; returns
    the property's schema or None."""
    parts = pointer.split("/")
    if len(parts) < 3 or parts[0] != "" or parts[1] != "properties":
        return None
    defs = doc.get("definitions", {})
    node = {"type": "object", "properties": doc.get("properties", {})}
    for seg in parts[2:]:
        node = deref(node, defs)
        if seg == "*":
            if node.get("type") != "array":
                return None
            node = node.get("items", {})
            continue
        if node.get("type") == "array":
            node = deref(node.get("items", {}), defs)
        props = node.get("properties") or {}
        if seg not in props:
            return None
        node = props[seg]
    return deref(node, defs)


def aws_types(node):
    t = node.get("type")
    if isinstance(t, list):
        return set(t)
    if isinstance(t, str):
        return {t}
    if "properties" in node or "patternProperties" in node:
        return {"object"}
    if "items" in node:
        return {"array"}
    return set()


def branches(node, defs):
    """AWS nodes whose oneOf/anyOf alternatives carry shapes: each alternative merged with
    the outer keywords. Otherwise the node itself."""
    for kw in ("oneOf", "anyOf"):
        alts = node.get(kw)
        if alts and any(set(a) & {"type", "$ref", "properties", "items"} for a in alts):
            outer = {k: v for k, v in node.items() if k != kw}
            out = []
            for a in alts:
                m = dict(deref(a, defs))
                m.update(outer)
                out.append(m)
            return out
    return [node]


# ---------------------------------------------------------------------------------------------
# Checks

class Failures:
    def __init__(self):
        self.items = []

    def add(self, text):
        self.items.append(text)

    def __bool__(self):
        return bool(self.items)


def check_keywords(node, where, defs, fails):
    """Only the subset plumb's validator reads; $refs resolve; objects closed."""
    if not isinstance(node, dict):
        fails.add("%s: schema is not an object" % where)
        return
    for k in node:
        if k not in KEYWORDS:
            fails.add("%s: keyword '%s' is outside plumb's subset" % (where, k))
    if "$ref" in node:
        ref = node["$ref"]
        if not (isinstance(ref, str) and ref.startswith("#/definitions/")
                and ref[len("#/definitions/"):] in defs):
            fails.add("%s: $ref %r does not name a definition" % (where, ref))
        if set(node) - {"$ref", "description"}:
            fails.add("%s: $ref with sibling keywords %s" % (where, sorted(set(node) - {"$ref"})))
        return
    if "oneOf" in node:
        for i, alt in enumerate(node["oneOf"]):
            check_keywords(alt, "%s/oneOf/%d" % (where, i), defs, fails)
        return
    t = node.get("type")
    if not isinstance(t, str) or t not in JSON_TYPES:
        fails.add("%s: type must be one of %s, not %r" % (where, sorted(JSON_TYPES), t))
        return
    if "description" in node and not isinstance(node["description"], str):
        fails.add("%s: description is not a string" % where)
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        fails.add("%s: enum must be a non-empty list" % where)
    if "pattern" in node:
        try:
            re.compile(node["pattern"].replace("\\p{L}", "a").replace("\\p{Z}", " ")
                       .replace("\\p{N}", "0"))
        except re.error as e:
            fails.add("%s: pattern does not compile: %s" % (where, e))
    if t == "object":
        props = node.get("properties")
        add = node.get("additionalProperties")
        if props is not None:
            if add is not False:
                fails.add("%s: an object with properties needs additionalProperties: false"
                          % where)
            for k, v in props.items():
                check_keywords(v, where + "/" + k, defs, fails)
            for r in node.get("required", []):
                if r not in props:
                    fails.add("%s: required '%s' is not a property" % (where, r))
        elif isinstance(add, dict):
            check_keywords(add, where + "/*", defs, fails)
        elif add is not None:
            fails.add("%s: additionalProperties of a map must be a schema" % where)
    elif t == "array":
        if "items" not in node:
            fails.add("%s: array without items" % where)
        else:
            check_keywords(node["items"], where + "/*", defs, fails)
    for k in ("properties", "required", "additionalProperties"):
        if k in node and t != "object":
            fails.add("%s: '%s' on a %s" % (where, k, t))


def compare(ours, aws, where, odefs, adefs, fails):
    """`ours` (a property schema of plumb's) must agree with AWS's `aws`."""
    o = deref(ours, odefs)
    a = deref(aws, adefs)
    alts = branches(a, adefs)
    if len(alts) > 1:
        results = []
        for alt in alts:
            sub = Failures()
            compare(o, alt, where, odefs, adefs, sub)
            if not sub:
                return
            results.append(sub)
        fails.add("%s: matches none of AWS's alternatives (%s)" %
                  (where, "; ".join(r.items[0] for r in results)))
        return
    if "oneOf" in o:
        fails.add("%s: oneOf where AWS has a single shape" % where)
        return
    ot = o.get("type")
    at = aws_types(a)
    if at and ot not in at:
        fails.add("%s: type %s, AWS has %s" % (where, ot, "/".join(sorted(at))))
        return
    a_enum = a.get("enum", [a["const"]] if "const" in a else None)
    for kw in COMPARED:
        av = a_enum if kw == "enum" else a.get(kw)
        ov = o.get(kw)
        if av is None and ov is None:
            continue
        if kw in STRING_ONLY and ot != "string":
            if ov is not None:
                fails.add("%s: %s on a %s" % (where, kw, ot))
            continue
        if kw == "enum" and av is not None and ov is not None:
            if sorted(map(json.dumps, av)) != sorted(map(json.dumps, ov)):
                fails.add("%s: enum %s, AWS has %s" % (where, ov, av))
            continue
        if av != ov:
            fails.add("%s: %s is %r, AWS has %r" % (where, kw, ov, av))
    if bool(o.get("uniqueItems")) != bool(a.get("uniqueItems")):
        fails.add("%s: uniqueItems %s, AWS has %s" % (where, o.get("uniqueItems"),
                                                      a.get("uniqueItems")))
    if ot == "object":
        oprops = o.get("properties")
        aprops = a.get("properties") or {}
        if oprops is not None:
            for k, v in oprops.items():
                if k not in aprops:
                    fails.add("%s/%s: not a property in AWS's schema" % (where, k))
                    continue
                compare(v, aprops[k], where + "/" + k, odefs, adefs, fails)
            oreq, areq = set(o.get("required", [])), set(a.get("required", []))
            if oreq != areq:
                fails.add("%s: required %s, AWS has %s" % (where, sorted(oreq), sorted(areq)))
        elif isinstance(o.get("additionalProperties"), dict):
            pats = a.get("patternProperties") or {}
            if len(pats) == 1:
                compare(o["additionalProperties"], list(pats.values())[0], where + "/*",
                        odefs, adefs, fails)
            elif isinstance(a.get("additionalProperties"), dict):
                compare(o["additionalProperties"], a["additionalProperties"], where + "/*",
                        odefs, adefs, fails)
            else:
                fails.add("%s: a map, AWS's is not" % where)
        elif aprops:
            fails.add("%s: free-form object, AWS declares its properties" % where)
    elif ot == "array":
        if "items" in o and "items" in a:
            compare(o["items"], a["items"], where + "/*", odefs, adefs, fails)
        elif "items" in o:
            fails.add("%s: items, AWS has none" % where)


def pointer_names(pointers):
    return [p[len("/properties/"):].replace("/", ".") for p in pointers]


def check_defaults(value, schema, where, defs, fails):
    """Defaults name declared properties; "*" stands for every element of an array."""
    s = deref(schema, defs)
    t = s.get("type")
    if isinstance(value, dict):
        if t == "array" and set(value) == {"*"}:
            check_defaults(value["*"], s.get("items", {}), where + "/*", defs, fails)
        elif t == "object" and "properties" in s:
            for k, v in value.items():
                if k not in s["properties"]:
                    fails.add("%s/%s: default for an undeclared property" % (where, k))
                else:
                    check_defaults(v, s["properties"][k], where + "/" + k, defs, fails)
        elif t != "object":
            fails.add("%s: default is an object, the property is %s" % (where, t))
    elif isinstance(value, list):
        if t != "array":
            fails.add("%s: default is a list, the property is %s" % (where, t))
        else:
            for i, v in enumerate(value):
                check_defaults(v, s.get("items", {}), "%s/%d" % (where, i), defs, fails)
    else:
        ok = {"string": isinstance(value, str),
              "boolean": isinstance(value, bool),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, (int, float)) and not isinstance(value, bool)}
        if not ok.get(t, False):
            fails.add("%s: default %r does not fit type %s" % (where, value, t))


def check_type(path, base):
    """All checks of one schemas/aws-*.json; returns (type name, Failures)."""
    fails = Failures()
    base_name = os.path.basename(path)
    # until the document says otherwise, the type its file name stands for
    name = {file_name(t): t for t in TYPES}.get(base_name, base_name)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fails.add("not valid JSON: %s" % e)
        return name, fails
    if not isinstance(doc, dict):
        fails.add("not a JSON object")
        return name, fails
    for k in TOP_REQUIRED:
        if k not in doc:
            fails.add("missing key '%s'" % k)
    for k in doc:
        if k not in TOP_ALLOWED:
            fails.add("unexpected key '%s'" % k)
    if fails:
        return name, fails
    tn = doc["typeName"]
    if tn not in TYPES:
        fails.add("typeName %r is not a type plumb supports" % tn)
        return name, fails
    if file_name(tn) != base_name:
        fails.add("file is %s, cfn-lint names %s %s" % (base_name, tn, file_name(tn)))
    if not isinstance(doc["description"], str) or not doc["description"]:
        fails.add("description must be a non-empty string")
    if doc.get("additionalProperties", False) is not False:
        fails.add("additionalProperties must be false")
    defs = doc["definitions"]
    for k, v in doc["properties"].items():
        check_keywords(v, "/properties/" + k, defs, fails)
    for k, v in defs.items():
        check_keywords(v, "/definitions/" + k, defs, fails)
    reached = set()

    def reach(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref[len("#/definitions/"):]
                if name not in reached and name in defs:
                    reached.add(name)
                    reach(defs[name])
            for v in node.values():
                reach(v)
        elif isinstance(node, list):
            for v in node:
                reach(v)

    reach(doc["properties"])
    for k in sorted(set(defs) - reached):
        fails.add("/definitions/%s: not used by any property" % k)
    if fails:
        return tn, fails

    aws = load_aws_schema(base, tn)
    adefs = aws.get("definitions", {})

    # properties, recursively
    for k, v in doc["properties"].items():
        if k not in aws["properties"]:
            fails.add("/properties/%s: not a property in AWS's schema" % k)
            continue
        compare(v, aws["properties"][k], "/properties/" + k, defs, adefs, fails)

    # pointer lists: AWS's, restricted to what we declare
    def restricted(key):
        return [p for p in aws.get(key, []) if declared(p, doc) is not None]

    for key in ("createOnlyProperties", "readOnlyProperties", "writeOnlyProperties"):
        ours = doc[key]
        for p in ours:
            if declared(p, doc) is None:
                fails.add("%s: %s is not a declared property" % (key, p))
        want = restricted(key)
        missing = [p for p in want if p not in ours]
        extra = [p for p in ours if p not in aws.get(key, [])]
        if missing:
            fails.add("%s: AWS also has %s" % (key, missing))
        if extra:
            fails.add("%s: %s are not in AWS's" % (key, extra))
    if doc["primaryIdentifier"] != aws.get("primaryIdentifier"):
        fails.add("primaryIdentifier %s, AWS has %s" % (doc["primaryIdentifier"],
                                                        aws.get("primaryIdentifier")))

    # required: AWS's, plus a member of a requiredXor / requiredOr group when it is the only
    # member of that group plumb declares
    areq = aws.get("required", [])
    for r in areq:
        if r not in doc["required"]:
            fails.add("required: AWS requires '%s'" % r)
    groups = [g for g in (aws.get("requiredXor"), aws.get("requiredOr")) if g]
    for r in doc["required"]:
        if r not in doc["properties"]:
            fails.add("required: '%s' is not declared" % r)
        elif r not in areq and not any(
                r in g and [m for m in g if m in doc["properties"]] == [r] for g in groups):
            fails.add("required: '%s' is not required by AWS" % r)

    check_plumb(doc, aws, fails)
    return tn, fails


def check_plumb(doc, aws, fails):
    tn = doc["typeName"]
    p = doc["plumb"]
    if not isinstance(p, dict):
        fails.add("plumb: not an object")
        return
    for k in PLUMB_REQUIRED:
        if k not in p:
            fails.add("plumb: missing '%s'" % k)
    for k in p:
        if k not in PLUMB_ALLOWED:
            fails.add("plumb: unexpected key '%s'" % k)
    if fails:
        return
    props = doc["properties"]
    defs = doc["definitions"]
    ro = set(doc["readOnlyProperties"])

    if p["service"] not in SERVICES:
        fails.add("plumb.service %r is not one of %s" % (p["service"], sorted(SERVICES)))
    else:
        for problem in model_exists(p["service"]):
            fails.add("plumb.service: " + problem)
    if not isinstance(p["stateful"], bool):
        fails.add("plumb.stateful must be true or false")
    elif p["stateful"] != (tn in STATEFUL):
        fails.add("plumb.stateful is %s; this test lists %s as %s" %
                  (p["stateful"], tn, "stateful" if tn in STATEFUL else "stateless"))
    if "description" in p and not isinstance(p["description"], str):
        fails.add("plumb.description must be a string")

    tagging = p["tagging"]
    aws_tagging = aws.get("tagging", {})
    aws_prop = aws_tagging.get("tagProperty", "")
    if tagging is None:
        if aws_tagging.get("taggable") and aws_prop[len("/properties/"):] in props:
            fails.add("plumb.tagging is null but AWS tags it through %s" % aws_prop)
    elif not isinstance(tagging, dict) or set(tagging) != {"property", "format"}:
        fails.add("plumb.tagging must be null or {property, format}")
    else:
        tp, fmt = tagging["property"], tagging["format"]
        schema = deref(props[tp], defs) if tp in props else None
        if schema is None:
            fails.add("plumb.tagging.property '%s' is not a declared property" % tp)
        elif fmt == "list":
            item = deref(schema.get("items", {}), defs)
            if schema.get("type") != "array" or set(item.get("properties", {})) != {"Key",
                                                                                   "Value"}:
                fails.add("plumb.tagging: '%s' is not a list of {Key, Value}" % tp)
        elif fmt == "map":
            if schema.get("type") != "object" or "properties" in schema:
                fails.add("plumb.tagging: '%s' is not a map" % tp)
        else:
            fails.add("plumb.tagging.format must be 'list' or 'map', not %r" % fmt)
        if aws_prop and aws_prop != "/properties/" + tp:
            fails.add("plumb.tagging.property '%s', AWS tags through %s" % (tp, aws_prop))

    for ptr in p["sensitiveProperties"]:
        if declared(ptr, doc) is None:
            fails.add("plumb.sensitiveProperties: %s is not a declared property" % ptr)
        elif ptr in ro:
            fails.add("plumb.sensitiveProperties: %s is read-only" % ptr)

    if not isinstance(p["defaults"], dict):
        fails.add("plumb.defaults must be an object")
    else:
        for k, v in p["defaults"].items():
            if k not in props:
                fails.add("plumb.defaults: '%s' is not a declared property" % k)
            elif "/properties/" + k in ro:
                fails.add("plumb.defaults: '%s' is read-only" % k)
            else:
                check_defaults(v, props[k], "plumb.defaults/" + k, defs, fails)

    t = p["timeouts"]
    if not isinstance(t, dict) or set(t) != {"create", "update", "delete"} or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in t.values()):
        fails.add("plumb.timeouts must be {create, update, delete} in positive seconds")

    want = pointer_names(doc["readOnlyProperties"])
    if p["attributes"] != want:
        fails.add("plumb.attributes %s, the read-only properties are %s" % (p["attributes"],
                                                                             want))

    np = p.get("nameProperty")
    if np is not None:
        s = deref(props[np], defs) if np in props else None
        if s is None:
            fails.add("plumb.nameProperty '%s' is not a declared property" % np)
        elif s.get("type") != "string":
            fails.add("plumb.nameProperty '%s' is not a string" % np)
        elif "/properties/" + np in ro:
            fails.add("plumb.nameProperty '%s' is read-only" % np)
        elif "/properties/" + np not in doc["createOnlyProperties"]:
            fails.add("plumb.nameProperty '%s' is not create-only" % np)

    for key in ("unorderedArrays", "partialArrays"):
        for ptr in p.get(key, []):
            s = declared(ptr, doc)
            if s is None or s.get("type") != "array":
                fails.add("plumb.%s: %s is not a declared array" % (key, ptr))
    cco = p.get("conditionalCreateOnlyProperties", [])
    want = [x for x in aws.get("conditionalCreateOnlyProperties", [])
            if declared(x, doc) is not None]
    if sorted(cco) != sorted(want):
        fails.add("plumb.conditionalCreateOnlyProperties %s, AWS's (declared) are %s" %
                  (cco, want))


# ---------------------------------------------------------------------------------------------
# plumb.schema.json

SCHEMA_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "definitions", "$comment", "title", "description",
    "default", "examples", "type", "enum", "const", "properties", "patternProperties",
    "additionalProperties", "propertyNames", "required", "items", "prefixItems", "minItems",
    "maxItems", "uniqueItems", "contains", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentRequired", "dependentSchemas", "deprecated", "readOnly", "writeOnly",
    "markdownDescription",
}
DRAFTS = {"https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#",
          "http://json-schema.org/draft-07/schema"}


def walk_json_schema(node, where, root, fails):
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        fails.add("%s: a schema must be an object or a boolean" % where)
        return
    for k, v in node.items():
        if k not in SCHEMA_KEYWORDS:
            fails.add("%s: unknown JSON Schema keyword '%s'" % (where, k))
        elif k == "$ref":
            if not (isinstance(v, str) and v.startswith("#/")):
                fails.add("%s: $ref %r is not local" % (where, v))
            else:
                target = root
                for seg in v[2:].split("/"):
                    target = target.get(seg) if isinstance(target, dict) else None
                if target is None:
                    fails.add("%s: $ref %s does not resolve" % (where, v))
        elif k == "type":
            ts = v if isinstance(v, list) else [v]
            if not all(t in JSON_TYPES | {"null"} for t in ts):
                fails.add("%s: bad type %r" % (where, v))
        elif k in ("properties", "patternProperties", "$defs", "definitions",
                   "dependentSchemas"):
            if not isinstance(v, dict):
                fails.add("%s/%s: must be an object" % (where, k))
                continue
            for name, sub in v.items():
                walk_json_schema(sub, "%s/%s/%s" % (where, k, name), root, fails)
        elif k in ("additionalProperties", "items", "propertyNames", "contains", "not", "if",
                   "then", "else"):
            walk_json_schema(v, "%s/%s" % (where, k), root, fails)
        elif k in ("allOf", "anyOf", "oneOf", "prefixItems"):
            if not isinstance(v, list) or not v:
                fails.add("%s/%s: must be a non-empty list" % (where, k))
                continue
            for i, sub in enumerate(v):
                walk_json_schema(sub, "%s/%s/%d" % (where, k, i), root, fails)
        elif k == "required":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                fails.add("%s: required must be a list of names" % where)
        elif k == "enum" and (not isinstance(v, list) or not v):
            fails.add("%s: enum must be a non-empty list" % where)
        elif k == "pattern":
            try:
                re.compile(v)
            except re.error as e:
                fails.add("%s: pattern does not compile: %s" % (where, e))


def follow(root, node):
    while isinstance(node, dict) and "$ref" in node:
        target = root
        for seg in node["$ref"][2:].split("/"):
            target = target.get(seg, {})
        node = target
    return node


def has_members(root, node, names, where, fails):
    node = follow(root, node)
    props = node.get("properties", {}) if isinstance(node, dict) else {}
    for n in names:
        if n not in props:
            fails.add("plumb.schema.json: %s has no '%s'" % (where, n))
    return props


def check_config_schema(type_names):
    fails = Failures()
    path = os.path.join(SCHEMAS, "plumb.schema.json")
    try:
        with open(path, encoding="utf-8") as f:
            root = json.load(f)
    except (OSError, ValueError) as e:
        fails.add("plumb.schema.json: %s" % e)
        return fails
    if root.get("$schema") not in DRAFTS:
        fails.add("plumb.schema.json: $schema must be draft 2020-12 or draft-07, not %r"
                  % root.get("$schema"))
    if root.get("type") != "object":
        fails.add("plumb.schema.json: the document must be an object")
    walk_json_schema(root, "plumb.schema.json", root, fails)

    top = has_members(root, root, ["project", "region", "vars", "environments", "state",
                                   "modules", "resources", "checks", "outputs", "audit",
                                   "bootstrap"], "the top level", fails)

    def entry(name, how):
        node = follow(root, top.get(name, {}))
        return follow(root, node.get(how, {})) if how else node

    has_members(root, entry("environments", "additionalProperties"), ["vars", "protect"],
                "environments.<env>", fails)
    has_members(root, entry("state", None), ["backend", "bucket", "key_prefix", "lock_table",
                                             "region"], "state", fails)
    has_members(root, entry("modules", "additionalProperties"), ["source", "inputs"],
                "modules.<name>", fails)
    res = has_members(root, entry("resources", "additionalProperties"),
                      ["type", "properties", "depends_on", "lifecycle", "environments",
                       "timeouts"], "resources.<name>", fails)
    has_members(root, res.get("lifecycle", {}), ["prevent_destroy", "create_before_destroy",
                                                 "ignore_changes"], "lifecycle", fails)
    has_members(root, res.get("timeouts", {}), ["create", "update", "delete"], "timeouts",
                fails)
    enum = follow(root, res.get("type", {})).get("enum")
    if sorted(enum or []) != sorted(type_names):
        fails.add("plumb.schema.json: resources.<name>.type must be an enum of the %d types "
                  "(differs: %s)" % (len(type_names),
                                     sorted(set(enum or []) ^ set(type_names))))
    has_members(root, entry("checks", "items"), ["http", "expect", "within"], "checks[]",
                fails)
    waive = has_members(root, entry("audit", None), ["waive"], "audit", fails)
    has_members(root, follow(root, waive.get("waive", {})).get("items", {}),
                ["rule", "resource", "reason"], "audit.waive[]", fails)
    gh = has_members(root, entry("bootstrap", None), ["github"], "bootstrap", fails)
    has_members(root, gh.get("github", {}), ["repository"], "bootstrap.github", fails)
    return fails


# ---------------------------------------------------------------------------------------------

def main():
    base = cfnlint_schema_dir()
    if base is None or not os.path.isdir(base):
        print("skipped: cfn-lint not installed")
        return 0

    files = sorted(f for f in os.listdir(SCHEMAS) if f.startswith("aws-") and f.endswith(".json"))
    passed = failed = 0
    seen = set()
    for f in files:
        try:
            tn, fails = check_type(os.path.join(SCHEMAS, f), base)
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            tn, fails = f, Failures()
            fails.add("check crashed: %s: %s" % (type(e).__name__, e))
        seen.add(tn)
        if fails:
            failed += 1
            print("FAIL %s (%s)" % (tn, f))
            for line in fails.items:
                print("     - " + line)
        else:
            passed += 1
            print("ok   %s" % tn)
    for tn in TYPES:
        if tn not in seen:
            failed += 1
            print("FAIL %s: no schemas/%s" % (tn, file_name(tn)))

    other = 0
    cfg = check_config_schema(TYPES)
    if cfg:
        other += 1
        print("FAIL plumb.schema.json")
        for line in cfg.items:
            print("     - " + line)
    else:
        print("ok   plumb.schema.json")

    gen = os.path.join(ROOT, "scripts", "gen-schemas.py")
    if os.path.exists(gen):
        r = subprocess.run([sys.executable, gen, "--check"], capture_output=True, text=True)
        if r.returncode != 0:
            other += 1
            print("FAIL schemas/ differ from what scripts/gen-schemas.py writes (run it)")
            for line in (r.stdout + r.stderr).strip().splitlines():
                print("     - " + line)
        else:
            print("ok   schemas/ are what scripts/gen-schemas.py writes")

    print("schemas: %d passed, %d failed" % (passed, failed))
    return 1 if failed or other else 0


if __name__ == "__main__":
    sys.exit(main())
