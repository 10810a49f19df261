#!/usr/bin/python3
"""Reference index lists from PyTorch's DistributedSampler (torch.utils.data.distributed).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_distributed.py
Writes test/fixtures/distributed.json, replayed by test/data/sampler.test.ts.

- "unshuffled": for each (n, numReplicas, rank, dropLast), list(sampler) and len(sampler) with
  shuffle=False: the padding (wrapping around the indices, repeatedly when n < numReplicas), the
  truncation under drop_last and the rank::numReplicas stride are PyTorch's.
Shuffled orders are not compared: Descent draws its permutation from its own generator (seed +
epoch), not torch.randperm's bits; the test checks their structure instead.
"""

import json
import os

from torch.utils.data.distributed import DistributedSampler

cases = []
for n in [0, 1, 3, 7, 10, 12, 13]:
    for replicas in [1, 2, 3, 4, 5]:
        for drop_last in [False, True]:
            for rank in range(replicas):
                s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
                cases.append({"n": n, "numReplicas": replicas, "rank": rank, "dropLast": drop_last,
                              "indices": list(s), "length": len(s)})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "distributed.json")
with open(out, "w") as f:
    json.dump({"unshuffled": cases}, f)
print(f"wrote {len(cases)} cases to {out}")
