"""Training and publishing the model: train -> evaluate -> robustness -> model card -> push.

    python -m training.prepare ...                 # the face rows, once (shared with collect/)
    python -m training.learn.train ...             # a run folder: config.json + model.safetensors (--resume DIR: a stopped run)
    python -m training.learn.evaluate ...          # test-split metrics (BMI, brackets, pairs)
    python -m training.learn.robustness ...        # the same faces re-framed, through the app's path
    python -m training.learn.model_card ...        # the model card from those figures
    python -m training.learn.push_model ...        # weights + card to the Hub
"""
