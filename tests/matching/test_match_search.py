from studysync.matching import SearchIndex, SearchItem, search, search_items


def test_a_prefix_finds_the_group_by_title(hashing):
    items = [
        SearchItem("g1", "Organic Chemistry Lab", ["Chemistry"]),
        SearchItem("g2", "Calculus II Crew", ["Mathematics"]),
        SearchItem("g3", "History Buffs", ["History"]),
    ]
    for it in items:
        it.vector = hashing.embed_one(f"{it.name} {' '.join(it.subjects)}")
    hits = search_items(items, "calc", hashing.embed_one("calc"))
    assert hits[0].id == "g2" and hits[0].keyword == 1.0
    assert "g3" not in [h.id for h in hits]


def test_keyword_is_case_insensitive_and_counts_each_query_word():
    index = SearchIndex.build([SearchItem("a", "Alex Kim", ["Physics"]), SearchItem("b", "Alexandra Po", ["Art"])], dim=4)
    assert index.keyword_scores("ALEX phys").tolist() == [1.0, 0.5]


def test_semantic_match_ranks_a_visual_learner_first(hashing):
    styles = {
        "p1": "I prefer listening to lectures and podcasts",
        "p2": "Hands-on labs and practice problems work for me",
        "p3": "I am a visual learner who needs diagrams",
        "p4": "Group discussion and teaching others",
    }
    items = [SearchItem(pid, f"Student {pid}", [], hashing.embed_one(text)) for pid, text in styles.items()]
    hits = search(SearchIndex.build(items, hashing.dim), "visual learner", hashing.embed_one("visual learner"))
    assert hits[0].id == "p3" and hits[0].keyword == 0.0


def test_limit_and_min_score():
    items = [SearchItem(str(i), f"Calc group {i}") for i in range(30)]
    hits = search_items(items, "calc", None, limit=5)
    assert [h.id for h in hits] == ["0", "1", "2", "3", "4"]
    assert search_items(items, "zzz", None) == []
