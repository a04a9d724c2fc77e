#!/usr/bin/env python3
"""Scores padded feature rows with onnxruntime, for the tract parity test.

    onnxruntime_scores.py MODEL.onnx ROWS.json   # ROWS: [{"indices": [...], "values": [...]}]

Prints a JSON list of score lists, one per row.
"""
import json
import sys

import numpy as np
import onnxruntime as ort

model_path, rows_path = sys.argv[1], sys.argv[2]
session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
rows = json.load(open(rows_path, encoding="utf-8"))
scores = []
for row in rows:
    (out,) = session.run(
        ["scores"],
        {
            "indices": np.array([row["indices"]], dtype=np.int64),
            "values": np.array([row["values"]], dtype=np.float32),
        },
    )
    scores.append([float(x) for x in out[0]])
json.dump(scores, sys.stdout)
