#!/usr/bin/python3
"""Trains the churn and upsell models and scores customers (run by models/job.ts).

Reads one JSON document on stdin:
  {"features": [names], "models": [{"kind", "train": [{"x": [...], "y": 0|1, "heldOut": bool}],
                                    "score": [{"orgId", "x": [...]}]}]}
and writes one on stdout: per model its coefficients, held-out AUC and calibration,
and per scored customer the probability with each feature's contribution.

The model is a logistic regression on standardized features that are clipped to
[-4, 4] standard deviations (part of the model, so its output is exactly the sum
below). A feature's contribution is its coefficient times its clipped standardized
value: the base value (the intercept: the log-odds of a customer with every
feature at the training mean) plus the contributions is the model's log-odds,
whose logistic is the score. Debian's python3-sklearn and python3-numpy only.
"""
import json
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

CLIP = 4.0


def train_one(spec, features):
    rows = spec["train"]
    x = np.array([r["x"] for r in rows], dtype=float)
    y = np.array([r["y"] for r in rows], dtype=int)
    held = np.array([bool(r["heldOut"]) for r in rows])
    if held.all() or (~held).all() or len(set(y[~held])) < 2:
        raise SystemExit(f"{spec['kind']}: the training data needs both outcomes and a held-out part")

    mean = x[~held].mean(axis=0)
    scale = x[~held].std(axis=0)
    scale[scale == 0] = 1.0

    def standardize(a):
        return np.clip((a - mean) / scale, -CLIP, CLIP)

    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(standardize(x[~held]), y[~held])
    coef = model.coef_[0]
    intercept = float(model.intercept_[0])

    report = {
        "kind": spec["kind"],
        "features": features,
        "coefficients": [float(c) for c in coef],
        "baseValue": intercept,
        "mean": [float(v) for v in mean],
        "scale": [float(v) for v in scale],
        "trainRows": int((~held).sum()),
        "trainPositives": int(y[~held].sum()),
        "heldOutRows": int(held.sum()),
        "heldOutPositives": int(y[held].sum()),
    }
    if len(set(y[held])) == 2:
        p_held = model.predict_proba(standardize(x[held]))[:, 1]
        report["heldOutAuc"] = float(roc_auc_score(y[held], p_held))
        report["heldOutBrier"] = float(brier_score_loss(y[held], p_held))
        observed, predicted = calibration_curve(y[held], p_held, n_bins=4, strategy="quantile")
        report["calibration"] = [{"predicted": float(p), "observed": float(o)} for p, o in zip(predicted, observed)]
    else:
        report["heldOutAuc"] = None

    scores = []
    to_score = spec["score"]
    if to_score:
        z = standardize(np.array([s["x"] for s in to_score], dtype=float))
        contributions = z * coef
        proba = model.predict_proba(z)[:, 1]
        logits = intercept + contributions.sum(axis=1)
        # The published factors must be the model's own: they add up to its output.
        if not np.allclose(1 / (1 + np.exp(-logits)), proba, atol=1e-9):
            raise SystemExit(f"{spec['kind']}: contributions do not add up to the model's output")
        for s, p, c in zip(to_score, proba, contributions):
            scores.append({"orgId": s["orgId"], "score": float(p), "contributions": [float(v) for v in c]})
    return report, scores


def main():
    job = json.load(sys.stdin)
    out = {"models": []}
    for spec in job["models"]:
        report, scores = train_one(spec, job["features"])
        report["scores"] = scores
        out["models"].append(report)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
