"""Write LaLonde's job-training data as CSV files, from the causaldata package (MIT; no network).

    python plugins/zoo-docalculus/recipes/make_lalonde_csv.py [FOLDER]

writes FOLDER/lalonde-cps.csv (the 185 NSW treated + 15,992 CPS survey controls: observational)
and FOLDER/lalonde-nsw.csv (the 445-row randomized experiment, Dehejia-Wahba sample), with the
columns treat, age, educ, black, hisp, marr, nodegree, re74, re75, re78. Needs pandas and
causaldata (`pip install pandas causaldata`). Files are written whole or not at all and never
over an existing file.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path


def frames():
    import causaldata
    import pandas as pd

    root = os.path.dirname(causaldata.__file__)
    nsw = pd.read_stata(glob.glob(os.path.join(root, "nsw_mixtape", "*.dta"))[0]).drop(columns="data_id")
    cps = pd.read_stata(glob.glob(os.path.join(root, "cps_mixtape", "*.dta"))[0]).drop(columns="data_id")
    observational = pd.concat([nsw[nsw.treat == 1], cps]).reset_index(drop=True)
    return {"lalonde-cps.csv": observational, "lalonde-nsw.csv": nsw}


def main(folder: str = ".") -> int:
    out = Path(folder)
    for name, frame in frames().items():
        path = out / name
        if path.exists():
            print(f"{path} exists; remove it to write it again", file=sys.stderr)
            return 1
        tmp = path.with_name(f".{name}.tmp")
        frame.to_csv(tmp, index=False, float_format="%.6g")
        os.replace(tmp, path)
        print(f"wrote {path} ({len(frame)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
