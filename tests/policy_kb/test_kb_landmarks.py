"""Places below township level that people name (scenic areas, islands, villages): the county
each lies in, written in places.yml and checked against the division table at load."""
import pytest
import yaml

from policy_kb import KBError, load_kb


def _matches(kb, text):
    return [(m.text, m.name, m.landmark) for m in kb.places.places_in_text(text)]


@pytest.mark.parametrize("text, name, county, covered", [
    ("楠溪江边上开民宿", "楠溪江", "永嘉县", True),
    ("我在下姜村附近的卫生室", "下姜村", "淳安县", True),
    ("大陈岛那边算山区县吗", "大陈岛", "椒江区", False),
    ("北雁荡山脚下的企业", "雁荡山", "乐清市", False),   # an alias names the same place
    ("南雁荡山景区", "南雁荡山", "平阳县", True),
    ("去根宫佛国附近一家民营企业", "根宫佛国", "开化县", True),   # 开化县根博路, not 常山
])
def test_a_landmark_is_a_match_of_its_county(kb, text, name, county, covered):
    (m,) = kb.places.places_in_text(text)
    assert (m.landmark, m.place.name, m.place.is_mountain_county) == (name, county, covered)
    assert m.township is None


@pytest.mark.parametrize("text, county", [
    ("仙霞关", "江山市"),   # not 霞关镇 of 苍南, read from inside it
    ("凤阳山", "龙泉市"),   # not 凤阳畲族乡 of 苍南
])
def test_a_landmark_wins_over_a_township_read_from_inside_its_name(kb, text, county):
    assert [m.name for m in kb.places.places_in_text(text)] == [county]


def test_every_landmark_lies_in_a_county_and_township_of_the_division_table(kb):
    marks = [mark for place in kb.places.places.values() for mark in place.landmarks]
    assert len(marks) >= 20
    for mark in marks:
        county = kb.places.places[mark.county]
        assert mark in county.landmarks
        assert mark.township is None or mark.township in {t.name for t in county.townships}


def _with_landmark(data_copy, entry):
    path = data_copy / "places.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["landmarks"].append(entry)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("entry, message", [
    ({"name": "某某山", "county": "某县"}, r"landmarks\[\d+\].county: unknown county '某县'"),
    ({"name": "某某山", "county": "淳安县", "township": "横店镇"}, r"landmarks\[\d+\].township: '横店镇' is no township of 淳安县"),
    ({"name": "开化", "county": "开化县"}, r"landmarks\[\d+\].name: name '开化' is used twice"),           # a county's own name
    ({"name": "某某山", "aliases": ["楠溪江"], "county": "永嘉县"}, r"landmarks\[\d+\].aliases\[0\]: name '楠溪江' is used twice"),
])
def test_a_wrong_landmark_stops_loading_and_is_named(data_copy, entry, message):
    _with_landmark(data_copy, entry)
    with pytest.raises(KBError, match=r"^places.yml: " + message):
        load_kb(data_copy)
