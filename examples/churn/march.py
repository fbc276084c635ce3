"""Writes examples/churn/march.parquet: 20 March customers of the churn example, as Parquet.

`python examples/churn/march.py` (pyarrow) regenerates it from fixed rows. Typed
columns (string, timestamp, int64, double, int32), so `mlops ingest` reads the types from the
file, not from text; row 7 has no monthly_charges (null) and row 13 a contract of 48 months
(the contract allows 1 to 36): the two rows the contract rejects.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

start = datetime(2026, 3, 1, tzinfo=timezone.utc)
rows = []
for n in range(1, 21):
    tenure = (n * 7) % 60
    calls = n % 5
    contract = [1, 12, 24][n % 3]
    charges = None if n == 7 else round(40 + (n * 13) % 70 + 0.25 * (n % 4), 2)
    rows.append(
        {
            "customer_id": f"C03{n:03d}",
            "ts": start + timedelta(hours=n),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "contract_months": 48 if n == 13 else contract,
            "churned": 1 if calls >= 3 and contract == 1 else 0,
        }
    )

schema = pa.schema(
    [
        ("customer_id", pa.string()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("tenure_months", pa.int64()),
        ("monthly_charges", pa.float64()),
        ("support_calls", pa.int32()),
        ("contract_months", pa.int64()),
        ("churned", pa.int64()),
    ]
)
out = Path(__file__).with_name("march.parquet")
pq.write_table(pa.Table.from_pylist(rows, schema=schema), out, compression="snappy", write_statistics=False)
print(f"wrote {len(rows)} rows to {out}")
