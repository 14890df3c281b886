"""Collecting the data: scrape -> parse titles -> download -> assign faces -> build (and push) the dataset.

    python -m training.collect.scrape ...          # posts.jsonl (praw; resumable)
    python -m training.collect.download ...        # images, each once (resumable)
    python -m training.collect.assign_faces ...    # which face gets which weight (manifest)
    python -m training.collect.build_dataset ...   # the `datasets` dataset + its card; --push to the Hub

A title is parsed in `titles.py` (heights, sex, age: `title_rules.py`; weights: `title_weights.py`; weights and
differences in words: `title_sentences.py`), scored on the hand labels `title_labels*.jsonl` by `eval_titles.py`.
"""
