"""Two pipelines, each in its own folder, over a few shared parts.

- `training/collect/`: the data. Scrape r/progresspics (praw), parse titles into BMI, download images,
  find and assign faces, build and publish the `datasets` dataset.
- `training/learn/`: the model. Train, evaluate (test split, robustness, same-person pairs), write the
  model card, push the weights.
- Shared here: `prepare.py` (the face rows both pipelines write: detect, the one crop, dlib descriptor),
  `sources.py` (labelled folders), `splits.py` (train/validation/test by person), `teacher.py` (dlib's
  descriptor), `hub.py` (pushing to the Hugging Face Hub).
"""
