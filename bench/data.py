"""Load benchmark data sets as columnar numpy arrays (never copied into the repo)."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_YELPCHI = REPO_ROOT.parent / "shared" / "data" / "yelpchi" / "yelpchi.csv.gz"
YELPCHI_COLUMNS = ("user_id", "product_id", "spam", "review_prior", "user_prior", "product_prior")


@dataclass(frozen=True)
class YelpChi:
    """One row per review. ``user_id`` and ``product_id`` are the file's integer ids."""

    user_id: np.ndarray  # int64
    product_id: np.ndarray  # int64
    spam: np.ndarray  # int8, 1 where Yelp filtered the review
    review_prior: np.ndarray  # float64 in [0, 1]
    user_prior: np.ndarray  # float64 in [0, 1]
    product_prior: np.ndarray  # float64 in [0, 1]

    def __len__(self) -> int:
        return len(self.user_id)

    def take(self, rows: np.ndarray) -> YelpChi:
        """The rows ``rows`` (indices or a mask), every column alike."""
        return YelpChi(**{name: getattr(self, name)[rows] for name in YELPCHI_COLUMNS})

    def reviewer_spam(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct user ids sorted, 1 where any of the user's reviews is spam)."""
        users, group = np.unique(self.user_id, return_inverse=True)
        spam = np.bincount(group, weights=self.spam, minlength=len(users)) > 0
        return users, spam.astype(np.int8)


def yelpchi_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path``, else ``$YELPCHI_PATH``, else ``<repo>/../shared/data/yelpchi/yelpchi.csv.gz``."""
    return Path(path or os.environ.get("YELPCHI_PATH") or DEFAULT_YELPCHI)


def load_yelpchi(path: str | os.PathLike[str] | None = None, nrows: int | None = None) -> YelpChi:
    """Read the YelpChi CSV (gzip or plain); raises FileNotFoundError when missing.

    ``nrows`` keeps the first rows of the file. Beware: the file's row order and
    its user ids are correlated with the label (row index alone ranks spam with
    ROC-AUC 0.92), so never rank by them, and take slices with ``shuffled``.
    """
    source = yelpchi_path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"YelpChi not found at {source}; set YELPCHI_PATH or place it there"
        )
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt") as handle:
        header = handle.readline().strip().split(",")
        if tuple(header) != YELPCHI_COLUMNS:
            raise ValueError(f"unexpected YelpChi header {header}")
        table = np.loadtxt(handle, delimiter=",", max_rows=nrows, ndmin=2)
    return YelpChi(
        user_id=table[:, 0].astype(np.int64),
        product_id=table[:, 1].astype(np.int64),
        spam=table[:, 2].astype(np.int8),
        review_prior=table[:, 3].copy(),
        user_prior=table[:, 4].copy(),
        product_prior=table[:, 5].copy(),
    )


def shuffled(data: YelpChi, seed: int) -> YelpChi:
    """The same graph with rows in a random order and user ids randomly reassigned
    (keeping them a block 201.. after the product ids, as UGFraud expects), so that
    no detector can profit from the file's label-correlated order."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(data))
    users, group = np.unique(data.user_id, return_inverse=True)
    new_ids = int(data.product_id.max()) + 1 + rng.permutation(len(users))
    out = data.take(rows)
    return YelpChi(
        user_id=new_ids[group[rows]].astype(np.int64),
        product_id=out.product_id,
        spam=out.spam,
        review_prior=out.review_prior,
        user_prior=out.user_prior,
        product_prior=out.product_prior,
    )
