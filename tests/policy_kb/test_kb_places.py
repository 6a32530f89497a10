"""Which places are mountain counties, and place lookup from what people type."""
import pytest

# All county-level divisions of Zhejiang as of May 2021 (after the April 2021 Hangzhou changes).
ZHEJIANG = {
    "杭州市": "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区 临安区 桐庐县 淳安县 建德市",
    "宁波市": "海曙区 江北区 北仑区 镇海区 鄞州区 奉化区 象山县 宁海县 余姚市 慈溪市",
    "温州市": "鹿城区 龙湾区 瓯海区 洞头区 永嘉县 平阳县 苍南县 文成县 泰顺县 瑞安市 乐清市 龙港市",
    "嘉兴市": "南湖区 秀洲区 嘉善县 海盐县 海宁市 平湖市 桐乡市",
    "湖州市": "吴兴区 南浔区 德清县 长兴县 安吉县",
    "绍兴市": "越城区 柯桥区 上虞区 新昌县 诸暨市 嵊州市",
    "金华市": "婺城区 金东区 武义县 浦江县 磐安县 兰溪市 义乌市 东阳市 永康市",
    "衢州市": "柯城区 衢江区 江山市 常山县 开化县 龙游县",
    "舟山市": "定海区 普陀区 岱山县 嵊泗县",
    "台州市": "椒江区 黄岩区 路桥区 三门县 天台县 仙居县 温岭市 临海市 玉环市",
    "丽水市": "莲都区 龙泉市 青田县 云和县 庆元县 缙云县 遂昌县 松阳县 景宁畲族自治县",
}
ALL = [(city, name) for city, names in ZHEJIANG.items() for name in names.split()]
QUZHOU = ["柯城区", "衢江区", "江山市", "常山县", "开化县", "龙游县"]
LISHUI = ["莲都区", "龙泉市", "青田县", "云和县", "庆元县", "缙云县", "遂昌县", "松阳县", "景宁畲族自治县"]
NAMED = ["淳安县", "永嘉县", "文成县", "平阳县", "泰顺县", "苍南县", "武义县", "磐安县", "天台县", "仙居县", "三门县"]


def test_ninety_county_level_divisions(kb):
    assert len(ALL) == 90
    assert {(p.city, p.name) for p in kb.all_places()} == set(ALL)


def test_exactly_the_26(kb):
    names = [p.name for p in kb.mountain_counties()]
    assert names == QUZHOU + LISHUI + NAMED
    assert len(names) == 26
    assert sorted(p.name for p in kb.all_places() if p.is_mountain_county) == sorted(names)
    assert len(kb.city("衢州").covered) == 6 and len(kb.city("丽水市").covered) == 9


@pytest.mark.parametrize("city,name", ALL)
def test_every_place_resolves_by_full_and_short_name(kb, city, name):
    for text in {name, name[:2] if len(name) == 3 else "景宁"}:
        match = kb.find_place(text)
        assert match is not None and match.place is not None, text
        assert match.place.name == name and match.place.city == city
    payload = kb.find_place(name).to_payload()
    assert payload == {"name": name, "city": city, "is_mountain_county": name in QUZHOU + LISHUI + NAMED}


@pytest.mark.parametrize("text", ["景宁", "景宁县", "景宁畲族自治县", "景寧", "景宁自治县"])
def test_jingning_forms(kb, text):
    assert kb.find_place(text).place.name == "景宁畲族自治县"


def test_longgang_is_not_covered(kb):
    place = kb.find_place("龙港").place
    assert place.name == "龙港市" and place.city == "温州市"
    assert place.is_mountain_county is False
    assert "苍南" in place.note
    assert kb.find_place("苍南县").place.is_mountain_county is True


def test_kinds(kb):
    assert kb.find_place("莲都").place.kind == "district"
    assert kb.find_place("龙泉").place.kind == "city"
    assert kb.find_place("开化").place.kind == "county"
    assert kb.find_place("景宁").place.kind == "autonomous_county"


@pytest.mark.parametrize("text,name,province", [
    ("上海", "上海市", "上海市"), ("苏州", "苏州市", "江苏省"), ("南京市", "南京市", "江苏省"),
    ("合肥", "合肥市", "安徽省"), ("福州", "福州市", "福建省"), ("黄山", "黄山市", "安徽省"),
    ("上饶", "上饶市", "江西省"), ("北京", "北京市", "北京市"), ("新疆", "新疆维吾尔自治区", "新疆维吾尔自治区"),
    ("我在江苏昆山工作", "昆山市", "江苏省"),   # the county-level city, read from the division table
])
def test_outside_zhejiang(kb, text, name, province):
    match = kb.find_place(text)
    assert match is not None and match.outside is not None
    assert match.outside.name == name and match.outside.province == province
    assert match.to_payload()["is_mountain_county"] is False


def test_cities_and_areas(kb):
    lishui = kb.city("丽水")
    assert lishui.name == "丽水市" and lishui.is_mountain_county
    assert lishui.to_payload() == {"name": "丽水市", "city": "丽水市", "is_mountain_county": True}
    hangzhou = kb.city("杭州市")
    assert [p.name for p in hangzhou.covered] == ["淳安县"]
    assert hangzhou.to_payload()["is_mountain_county"] is False
    assert [p.name for p in kb.city("温州").covered] == ["永嘉县", "平阳县", "苍南县", "文成县", "泰顺县"]
    assert [p.name for p in kb.city("台州").covered] == ["三门县", "天台县", "仙居县"]
    assert kb.city("宁波").covered == []
    match = kb.find_place("衢州市区")
    assert match.area is not None and [p.name for p in match.area.places] == ["柯城区", "衢江区"]
    assert match.to_payload() == {"name": "衢州市区", "city": "衢州市", "is_mountain_county": True}
    assert [p.name for p in kb.find_place("丽水市区").area.places] == ["莲都区"]
    assert kb.find_place("衢州").city.name == "衢州市"


def test_places_in_text_order_and_longest_match(kb):
    found = kb.places_in_text("我从苏州回到丽水市区，想去景宁畲族自治县或者龙泉")
    assert [m.name for m in found] == ["苏州市", "丽水市区", "景宁畲族自治县", "龙泉市"]
    assert found[2].text == "景宁畲族自治县"
    assert found[0].span == (2, 4)


def test_place_names_inside_organisation_names_are_ignored(kb):
    assert kb.places_in_text("人行杭州中心支行负责什么") == []
    assert kb.places_in_text("浙江人才网") == []


def test_find_place_prefers_the_county(kb):
    assert kb.find_place("杭州的淳安县").place.name == "淳安县"


@pytest.mark.parametrize("text,name", [
    ("麗水縉雲縣", "缙云县"), ("慶元", "庆元县"), ("晋云县", "缙云县"), ("去盘安县", "磐安县"),
    ("瞿江区", "衢江区"), ("遂昌县", "遂昌县"),
])
def test_traditional_and_near_miss(kb, text, name):
    assert kb.find_place(text).place.name == name


@pytest.mark.parametrize("text", ["中山市", "宝山区", "明天会下雨吗", "", "县", "林海雪原"])
def test_no_guessing(kb, text):
    match = kb.find_place(text)
    assert match is None or match.place is None


@pytest.mark.parametrize("text", ["就业补助资金山区县能多分一些吗", "资金山区县倾斜"])
def test_a_name_inside_a_longer_word_is_not_a_place(kb, text):
    assert kb.places_in_text(text) == []


def test_a_name_before_a_longer_word_still_counts(kb):
    assert [m.name for m in kb.places_in_text("上海金山区")] == ["上海市", "金山区"]
    assert [m.name for m in kb.places_in_text("丽水山区县")] == ["丽水市"]


@pytest.mark.parametrize("text, name, province", [
    ("我是江西上饶婺源的", "婺源县", "江西省"),
    ("我在福建寿宁县开店", "寿宁县", "福建省"),    # the full name, whatever its short form
    ("安徽歙县的企业", "歙县", "安徽省"),
])
def test_a_county_of_a_neighbouring_province_is_outside_zhejiang(kb, text, name, province):
    found = [m for m in kb.places.places_in_text(text) if m.outside is not None and m.outside.county]
    assert [(m.name, m.outside.province) for m in found] == [(name, province)]
    assert found[0].outside.to_payload()["is_mountain_county"] is False


@pytest.mark.parametrize("text", [
    "天长地久",        # 天长市's short form is an everyday word: only its full name counts
    "兴化了一下",      # 兴化市
    "无为而治",        # 无为市
])
def test_a_short_form_of_an_outside_county_that_is_an_everyday_word_is_no_place(kb, text):
    assert not [m for m in kb.places.places_in_text(text) if m.outside is not None]


def test_outside_counties_are_read_from_the_division_table_and_never_from_pinyin(kb):
    from policy_kb.romanized import lexicon

    counties = {o.name for o in kb.places.outside.values() if o.county}
    assert {"婺源县", "寿宁县", "歙县"} <= counties and len(counties) > 150
    assert not counties & set(lexicon(kb))
    assert not any(kb.places.by_name(n) is not None and kb.places.by_name(n).__class__.__name__ == "Place"
                   for n in counties)  # no county of Zhejiang is taken for one elsewhere
