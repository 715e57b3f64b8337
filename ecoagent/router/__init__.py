"""Routing: start each query at the rung likely to solve it, learned from the run log.

* :mod:`.cascades` reads the run log back as cascades (each rung's verdict and cost per query);
* :class:`NeighbourRouter` estimates each rung's chance on a new query from similar
  logged ones (similarity-weighted neighbours, after RouteLLM) and picks the start rung;
* :class:`RouterStage` is the pipeline's stage (decides the start rung, learns from each
  finished run through a :class:`RouteIndex` in Qdrant);
* :mod:`.evaluate` and :mod:`.sweep` evaluate start-rung policies on logged cascades
  without re-running a model: exact where the log covers the choice, bounded where it
  cannot, with APGR and CPT as RouteLLM reports them.
"""

from .cascades import Cascade, RungOutcome, cascades_from
from .evaluate import Outcome, PolicyResult, apgr, baselines, cpt, evaluate, outcome, pgr
from .neighbours import Estimate, NeighbourRouter, Start
from .stage import RouteIndex, RouterStage
from .sweep import THRESHOLDS, RouterEval, calibrate, eval_table, evaluate_router, write_curve

__all__ = [
    "THRESHOLDS",
    "Cascade",
    "Estimate",
    "NeighbourRouter",
    "Outcome",
    "PolicyResult",
    "RouteIndex",
    "RouterEval",
    "RouterStage",
    "RungOutcome",
    "Start",
    "apgr",
    "baselines",
    "calibrate",
    "cascades_from",
    "cpt",
    "eval_table",
    "evaluate",
    "evaluate_router",
    "outcome",
    "pgr",
    "write_curve",
]
