"""Broken data files fail at start-up with a message naming the file and the field."""
from pathlib import Path

import pytest
import yaml

from policy_kb import KBError, load_kb


def _edit(data_dir: Path, filename: str, change) -> None:
    path = data_dir / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _clause(data, cid):
    return next(c for c in data["clauses"] if c["id"] == cid)


def _index(data, cid):
    return next(i for i, c in enumerate(data["clauses"]) if c["id"] == cid)


def test_the_shipped_data_loads():
    # How long loading takes is part of "ready after start" in `make bench`, not timed here: a
    # bound of wall time fails on a busy machine whatever the code does.
    kb = load_kb()
    assert len(kb.clauses) == 18


def test_a_copy_round_trips(data_copy):
    assert load_kb(data_copy).clause("m7").units == ["hrss", "finance", "pbc_hz"]


BROKEN = [
    # (file, mutation, expected message fragments)
    ("clauses.yml", lambda d: _clause(d, "m1")["units"].__setitem__(0, "xx"),
     ["clauses.yml: clauses[2].units[0]: unknown department 'xx'"]),
    ("clauses.yml", lambda d: _clause(d, "m7").__setitem__("text", "加强创业扶持。所有人都能贷款。"),
     ["clauses.yml: clauses[12].text", "verbatim"]),
    ("clauses.yml", lambda d: _clause(d, "m7").__setitem__("units_line", "（责任单位：省财政厅）"),
     ["clauses.yml: clauses[12].units_line"]),
    ("clauses.yml", lambda d: d["clauses"].__setitem__(_index(d, "m8"), {**_clause(d, "m8"), "id": "m7"}),
     ["clauses.yml: clauses[13].id", "duplicate clause id 'm7'"]),
    ("clauses.yml", lambda d: d["clauses"].pop(_index(d, "effective")),
     ["clauses.yml", "missing clause id 'effective'"]),
    ("clauses.yml", lambda d: _clause(d, "m2").__setitem__("keywords", [{"term": "飞地", "weight": -1}]),
     ["clauses.yml: clauses[3].keywords[0].weight"]),
    ("clauses.yml", lambda d: _clause(d, "m3").__setitem__("composed_of", ["m3.1", "m3.9"]),
     ["clauses.yml: clauses[4].composed_of[1]", "m3.9"]),
    ("clauses.yml", lambda d: _clause(d, "m1")["hedges"][0].__setitem__("phrase", "必须"),
     ["clauses.yml: clauses[2].hedges[0].phrase"]),
    ("clauses.yml", lambda d: _clause(d, "m5").pop("title"),
     ["clauses.yml: clauses[10].title", "field required"]),
    ("departments.yml", lambda d: d["departments"][1].__setitem__("id", "org_dept"),
     ["departments.yml: departments[1].id", "duplicate department id"]),
    ("departments.yml", lambda d: d["departments"][0].pop("full_name"),
     ["departments.yml: departments[0].full_name"]),
    ("departments.yml", lambda d: d["departments"][2]["aliases"].append("人社厅"),
     ["departments.yml: departments[2].aliases", "人社厅"]),
    ("document.yml", lambda d: d["document"]["issuers"].append("nobody"),
     ["document.yml: document.issuers[7]: unknown department 'nobody'"]),
    ("document.yml", lambda d: d["document"].__setitem__("issued", "五月"),
     ["document.yml: document.issued"]),
    ("document.yml", lambda d: d["document"].__setitem__("measure_count", 8),
     ["document.yml: document.measure_count"]),
    ("places.yml", lambda d: d["cities"][0]["counties"][0].__setitem__("kind", "town"),
     ["places.yml: cities[0].counties[0].kind"]),
    ("places.yml", lambda d: d["mountain_scope"]["named"].append("乐清"),
     ["places.yml: mountain_scope.named[11]", "乐清"]),
    ("places.yml", lambda d: d["mountain_scope"]["whole_cities"].__setitem__(0, "衢州府"),
     ["places.yml: mountain_scope.whole_cities[0]", "衢州府"]),
    ("places.yml", lambda d: d["cities"][1]["counties"].append({"name": "上城区", "kind": "district"}),
     ["places.yml: cities[1].counties[10].name", "上城区"]),
    ("places.yml", lambda d: d["areas"][0]["counties"].append("莲都区"),
     ["places.yml: areas[0].counties[2]", "莲都区"]),
    ("eligibility.yml", lambda d: d["rules"][0]["conditions"][0].__setitem__("fact", "age"),
     ["eligibility.yml: rules[0].conditions[0].fact: unknown fact 'age'"]),
    ("eligibility.yml", lambda d: d["rules"][0].__setitem__("clause", "m10"),
     ["eligibility.yml: rules[0].clause: unknown clause 'm10'"]),
    ("eligibility.yml", lambda d: d["rules"][0]["conditions"][3]["in"].append("startup_co"),
     ["eligibility.yml: rules[0].conditions[3].in[1]", "startup_co"]),
    ("eligibility.yml", lambda d: d["rules"][0]["ask_order"].remove("employer_type"),
     ["eligibility.yml: rules[0].ask_order", "employer_type"]),
    ("eligibility.yml", lambda d: d["rules"][0]["conditions"][2]["cities"].append("苏州市"),
     ["eligibility.yml: rules[0].conditions[2].cities[2]", "苏州市"]),
    ("eligibility.yml", lambda d: d["rules"][0]["conditions"][3].__setitem__("city_alone", "urban"),
     ["eligibility.yml: rules[0].conditions[3].city_alone", "place condition"]),
    ("eligibility.yml", lambda d: d["rules"][0]["conditions"][2].__setitem__("apart_from", "birthplace"),
     ["eligibility.yml: rules[0].conditions[2].apart_from", "birthplace"]),
    ("eligibility.yml", lambda d: d["facts"]["postdoc_status"]["values"]["completed"].__setitem__("not_yet", "retired"),
     ["eligibility.yml: facts.postdoc_status.values.completed.not_yet", "retired"]),
    ("eligibility.yml", lambda d: d["facts"]["role"].__setitem__("type", "text"),
     ["eligibility.yml: facts.role.type"]),
    ("glossary.yml", lambda d: d["glossary"][0]["related"].append("m99"),
     ["glossary.yml: glossary[0].related[1]: unknown clause 'm99'"]),
    ("glossary.yml", lambda d: d["glossary"][0].__setitem__("is_explanation", False),
     ["glossary.yml: glossary[0].is_explanation"]),
    ("glossary.yml", lambda d: d["glossary"][1]["aliases"].append("飞地"),
     ["glossary.yml: glossary[1].aliases", "飞地"]),
]


@pytest.mark.parametrize("filename,mutate,fragments", BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_broken_file_names_file_and_field(data_copy, filename, mutate, fragments):
    _edit(data_copy, filename, mutate)
    with pytest.raises(KBError) as err:
        load_kb(data_copy)
    message = str(err.value)
    assert message.startswith(filename + ": ")
    for fragment in fragments:
        assert fragment in message, message


def test_invalid_yaml(data_copy):
    (data_copy / "glossary.yml").write_text("glossary: [unclosed", encoding="utf-8")
    with pytest.raises(KBError, match=r"^glossary.yml: invalid YAML"):
        load_kb(data_copy)


def test_missing_file(data_copy):
    (data_copy / "places.yml").unlink()
    with pytest.raises(KBError, match=r"^places.yml: file not found"):
        load_kb(data_copy)


def test_unknown_field_is_rejected(data_copy):
    _edit(data_copy, "clauses.yml", lambda d: _clause(d, "m9").__setitem__("unit", ["hrss"]))
    with pytest.raises(KBError, match=r"^clauses.yml: clauses\[14\]\.unit: extra fields not permitted"):
        load_kb(data_copy)
