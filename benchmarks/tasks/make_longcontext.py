"""Write ``longcontext.jsonl``: questions about a long document, table or log, with exact answers.

Each task is a question whose answer needs a few facts buried in about 1,200-1,800
tokens of material (an operations report, meeting notes, a price table, a service
log). The material goes in the task's ``context``, not its query, as a user would
pass it (``ecoagent ask QUESTION --context FILE``). Every task has a paraphrase (same
material, other words) and a variant (the same question about material with other
numbers, in ``variant_context``). The reference code hard-codes the facts and
computes the answer; every expected answer is that code's output, computed here.

Filler prose carries no numbers: the facts are the only figures in a report, so a
question cannot be answered from the wrong sentence by accident, and compression
(which keeps every number) has prose to work on. The log and the table are the
opposite case, mostly literals, where compression can drop little.

    .venv/bin/python benchmarks/tasks/make_longcontext.py   # rewrites benchmarks/tasks/longcontext.jsonl
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

FILLER = """\
The operations review covered the quarter's main initiatives and the lessons the teams drew from them.
Several stakeholders asked for clearer ownership of shared services before the next planning cycle.
The infrastructure group migrated most internal dashboards to the new monitoring stack without downtime.
Customer support reported that response quality improved after the knowledge base was reorganized.
Finance reminded every team lead to submit forecasts through the planning tool rather than by email.
The security team finished the review of access policies and removed a number of stale service accounts.
Product managers agreed to publish a short changelog with every release so that support can prepare.
Hiring continued at a steady pace, with most new engineers joining the platform and data teams.
The design system was extended with accessible color tokens and a new set of form components.
Legal confirmed that the updated data processing agreement is now in force for all enterprise customers.
Several incidents were traced back to configuration drift between the staging and production clusters.
The on-call rotation was rebalanced so that no engineer carries more than one week in a row.
Marketing prepared a campaign around the annual conference and asked engineering for a short demo.
The data team retired the legacy warehouse jobs and moved the nightly reports to the streaming pipeline.
Vendors were asked to confirm their support windows before the contracts are renewed next year.
A working group proposed a lighter process for architecture decisions, with templates and a review rota.
Teams were encouraged to document their runbooks in the shared wiki and to link them from alerts.
The mobile team shipped offline mode after a long beta, and early feedback has been positive.
Office facilities will be closed for maintenance on a weekend, and remote work is expected that week.
Leadership reiterated that reliability work has priority over new features until the backlog shrinks.
The quality team introduced contract tests between the billing service and the invoicing front end.
Several teams noted that flaky tests slowed them down and asked for time to stabilize the suites.
The accessibility audit found issues in older pages, which will be fixed as those pages are touched.
A pilot of pair programming across teams was well received and will continue next quarter.
Procurement consolidated software licenses, which simplified renewals and removed duplicate tools.
The analytics dashboards now show weekly trends, so regressions are spotted before customers notice.
Engineering managers will hold skip-level meetings to hear concerns from every team directly.
The documentation site moved to a new generator, and broken links are checked on every change.
Cost reviews showed that idle development environments were a large share of cloud spending.
A new escalation path was agreed with the largest customers, with a named contact on each side.
The platform team published guidelines for service ownership, alerting and deprecation notices.
Release trains will run on a fixed cadence, and urgent fixes go out through a separate hotfix lane.
The research group shared findings on search relevance and proposed an experiment for next month.
Feedback from the customer advisory board favored fewer, more reliable features over many new ones.
Internal tooling received attention, especially the deploy pipeline and the local development setup.
The team agreed to revisit these topics at the next review and to track the actions in the planner.
"""
FILLER_SENTENCES = [s for s in FILLER.splitlines() if s.strip()]
NAMES = ["Atlas", "Borealis", "Cygnus", "Draco", "Eridanus", "Fornax", "Gemini", "Hydra", "Lyra", "Orion"]
TEAMS = ["platform", "payments", "search", "mobile", "data", "identity", "billing", "growth"]
PRODUCTS = [
    "Falcon router",
    "Heron switch",
    "Kestrel hub",
    "Osprey modem",
    "Merlin bridge",
    "Swift repeater",
    "Condor gateway",
    "Raven access point",
    "Egret adapter",
    "Puffin antenna",
    "Plover cable",
    "Tern mount",
]
SERVICES = ["checkout", "search", "login", "catalog", "payments"]


def report(rng: random.Random, facts: list[str], sentences: int = 64) -> str:
    """Numberless filler prose in paragraphs, with the fact sentences at random places."""
    body = [rng.choice(FILLER_SENTENCES) for _ in range(sentences)]
    for fact in facts:
        body.insert(rng.randrange(4, len(body) - 4), fact)
    paragraphs = [" ".join(body[i : i + 5]) for i in range(0, len(body), 5)]
    return "Quarterly operations report\n\n" + "\n\n".join(paragraphs) + "\n"


def run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})  # noqa: S102 - our own reference code, written just above
    return out.getvalue().strip()


def budget(rng: random.Random) -> tuple[str, str, Callable[[], tuple[str, str]]]:
    a, b = rng.sample(NAMES, 2)

    def material() -> tuple[str, str]:
        x, y = rng.randrange(120, 990) * 1000, rng.randrange(120, 990) * 1000
        facts = [
            f"The {a} project was approved with a budget of {x} dollars for the year.",
            f"After a long discussion, the {b} project received a budget of {y} dollars.",
        ]
        return report(rng, facts), f"print({x} + {y})"

    return (
        f"What is the combined budget of the {a} and {b} projects, in dollars?",
        f"Add up the {a} budget and the {b} budget. How many dollars is that?",
        material,
    )


def headcount(rng: random.Random) -> tuple[str, str, Callable[[], tuple[str, str]]]:
    a, b = rng.sample(TEAMS, 2)

    def material() -> tuple[str, str]:
        x, y = rng.randrange(30, 60), rng.randrange(5, 29)
        facts = [
            f"The {a} team now has {x} engineers after this quarter's hiring.",
            f"The {b} team stayed small, with {y} engineers in total.",
        ]
        return report(rng, facts), f"print({x} - {y})"

    return (
        f"How many more engineers does the {a} team have than the {b} team?",
        f"By how many engineers is the {a} team larger than the {b} team?",
        material,
    )


def audit(rng: random.Random) -> tuple[str, str, Callable[[], tuple[str, str]]]:
    name = rng.choice(NAMES)

    def material() -> tuple[str, str]:
        start = rng.randrange(2, 12)
        end = start + rng.randrange(5, 17)
        facts = [
            f"The {name} security audit starts on March {start} with the kickoff meeting.",
            f"Auditors expect to close the {name} audit on March {end}, when the report is due.",
        ]
        return report(rng, facts), f"print({end} - {start} + 1)"

    return (
        f"How many days does the {name} audit last, counting both the first and the last day?",
        f"Counting the start and end days, how long is the {name} audit in days?",
        material,
    )


def price_table(rng: random.Random) -> tuple[str, str, Callable[[], tuple[str, str]]]:
    product = rng.choice(PRODUCTS)
    k = rng.randrange(3, 9)

    def material() -> tuple[str, str]:
        prices = {p: rng.randrange(19, 400) for p in PRODUCTS}
        rows = "\n".join(
            f"| {p} | {prices[p]} | {rng.choice(['in stock', 'backorder', 'limited'])} |" for p in PRODUCTS
        )
        intro = " ".join(rng.sample(FILLER_SENTENCES, 20))
        outro = " ".join(rng.sample(FILLER_SENTENCES, 20))
        text = (
            f"Price list and notes\n\n{intro}\n\n| product | unit price (USD) | availability |\n|---|---|---|\n"
            f"{rows}\n\n{outro}\n"
        )
        return text, f"print({k} * {prices[product]})"

    return (
        f"How much do {k} units of the {product} cost in total, in USD?",
        f"What is the total price in USD of buying {k} {product} units?",
        material,
    )


def service_log(rng: random.Random) -> tuple[str, str, Callable[[], tuple[str, str]]]:
    service = rng.choice(SERVICES)

    def material() -> tuple[str, str]:
        lines, worst = [], 0
        for i in range(60):
            svc = rng.choice(SERVICES)
            ms = rng.randrange(20, 900)
            if svc == service:
                worst = max(worst, ms)
            lines.append(
                f"2024-05-14 10:{i // 2:02d}:{(i * 29) % 60:02d} INFO service={svc} latency_ms={ms} status=200"
            )
        return "\n".join(lines) + "\n", f"print({worst})"

    return (
        f"What was the highest latency_ms of the {service} service in this log?",
        f"In the log, what is the maximum latency_ms recorded for service={service}?",
        material,
    )


TEMPLATES = [budget, headcount, audit, price_table, service_log]


def main() -> None:
    rng = random.Random(20261201)
    tasks = []
    for n in range(5):
        for template in TEMPLATES:
            query, paraphrase, material = template(rng)
            context, code = material()
            variant_context, variant_code = material()
            while run(variant_code) == run(code):  # a variant must need its own material
                variant_context, variant_code = material()
            tasks.append(
                {
                    "id": f"{template.__name__}-{n + 1}",
                    "query": query,
                    "expected": run(code),
                    "paraphrase": paraphrase,
                    "context": context,
                    "code": code,
                    "variant": query,
                    "variant_expected": run(variant_code),
                    "variant_context": variant_context,
                }
            )
    path = Path(__file__).with_name("longcontext.jsonl")
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    print(f"wrote {len(tasks)} tasks to {path}")


if __name__ == "__main__":
    main()
