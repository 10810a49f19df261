"""How the fixture generators write numbers into JSON (shared by scripts/*.py; not a generator).

NaN and infinities become the strings "nan", "inf", "-inf" (JSON has no such numbers); float32 values
are written as the shortest decimal that rounds back to the same float32."""

import math

import numpy as np


def enc_value(v, dtype):
    if dtype == "int32":
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if dtype == "float32":
        return float(str(np.float32(v)))
    return v
