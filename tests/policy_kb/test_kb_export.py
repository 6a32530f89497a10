"""Generated NLU vocabulary."""
import json

import jieba

from policy_kb import export


def test_cli_writes_userdict_and_patterns(tmp_path):
    assert export.main([str(tmp_path)]) == 0
    userdict = (tmp_path / "jieba" / "userdict.txt").read_text(encoding="utf-8").splitlines()
    words = {line.split()[0]: int(line.split()[1]) for line in userdict}
    for word in ["景宁畲族自治县", "景宁", "省人力社保厅", "创业担保贷款", "飞地人才", "民营企业", "乡镇卫生院", "柯城区"]:
        assert word in words and words[word] >= export.MIN_FREQ
    rows = [json.loads(line) for line in (tmp_path / "entity_patterns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["label"] for r in rows} == set(export.ENTITY_LABELS)
    assert {"label": "place", "pattern": "景宁", "id": "景宁畲族自治县"} in rows
    assert {"label": "city", "pattern": "衢州", "id": "衢州市"} in rows
    assert {"label": "department", "pattern": "省人社保厅", "id": "hrss"} in rows
    assert {"label": "topic", "pattern": "创业贷", "id": "m7"} in rows
    assert {"label": "employer_type", "pattern": "民企", "id": "private"} in rows
    assert {"label": "postdoc_status", "pattern": "未出站", "id": "in_station"} in rows


def test_userdict_keeps_terms_whole(tmp_path):
    export.main([str(tmp_path)])
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(tmp_path / "jieba" / "userdict.txt"))
    for text, word in [("我想申请创业担保贷款", "创业担保贷款"), ("去景宁畲族自治县工作", "景宁畲族自治县"), ("省人力社保厅负责", "省人力社保厅")]:
        assert word in tokenizer.lcut(text)


def test_synonyms_and_lookup_tables(kb):
    syn = export.synonyms(kb)
    assert syn["place"]["景宁"] == "景宁畲族自治县"
    assert syn["role"]["博士后"] == "postdoc"
    assert "景宁畲族自治县" not in syn["place"]
    tables = export.lookup_tables(kb)
    assert tables["place"]["景宁畲族自治县"] == "景宁畲族自治县"
    assert set(tables) == set(export.ENTITY_LABELS)
