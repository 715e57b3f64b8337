"""What a 20-turn chat's follow-ups read, with and without conversation memory.

A scripted 20-turn session (questions, the code that answered them, what it printed,
the answers): the turns are fixed, so every strategy sees the same conversation.
For each turn, the first message its rung would read is built the way chat builds
it, and its tokens are counted with the bundled SmolLM2's own tokenizer:

* **full history**: every earlier turn raw (question, code, output, answer), as a chat
  without memory management passes it;
* **last 3 raw**: ecoagent's chat before this memory (questions and answers only);
* **summary buffer + recall**: the last 3 turns verbatim, older ones summarized by
  SmolLM2 itself (real calls, after each turn as chat does), plus up to 2 recalled
  earlier turns from Qdrant.

Each first message is re-read by every model call of its turn, so these tokens are
paid once per call. The summarizer's own tokens are counted separately: they are a
cost memory adds. Retention: a few questions need a fact from long before (e.g.
"the March total"), and the table shows whether that fact is in what the model reads.

Usage: .venv/bin/python benchmarks/bench_memory.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path

from autogen_core.models import UserMessage

from ecoagent.bank import SolutionBank
from ecoagent.config import BankSettings, load_settings
from ecoagent.conversation import Conversation
from ecoagent.memory import SummaryBufferContext, TurnMemory
from ecoagent.models import build_client
from ecoagent.prompts import first_message
from ecoagent.records import Execution, RungAttempt, RunRecord

# (question, code, output, answer, a fact an earlier turn established that this question needs)
TURNS: list[tuple[str, str, str, str, str | None]] = [
    (
        "Load sales.csv and show its columns.",
        "import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint(list(df.columns))",
        "['date', 'region', 'product', 'units', 'price']",
        "The columns are date, region, product, units and price.",
        None,
    ),
    (
        "What is the total revenue for March?",
        "m = df[df.date.str.startswith('2026-03')]\nprint((m.units * m.price).sum())",
        "48210.5",
        "Total March revenue: 48,210.50 EUR.",
        None,
    ),
    (
        "And for April?",
        "a = df[df.date.str.startswith('2026-04')]\nprint((a.units * a.price).sum())",
        "51377.0",
        "Total April revenue: 51,377.00 EUR.",
        "48,210.50",
    ),
    (
        "Which region sold the most units overall?",
        "print(df.groupby('region').units.sum().idxmax())",
        "North",
        "North sold the most units.",
        None,
    ),
    (
        "How many distinct products are there?",
        "print(df['product'].nunique())",
        "37",
        "There are 37 distinct products.",
        None,
    ),
    (
        "What is the average price?",
        "print(round(df.price.mean(), 2))",
        "18.44",
        "The average price is 18.44 EUR.",
        None,
    ),
    (
        "Plot monthly revenue to revenue.png.",
        "df['rev'] = df.units * df.price\ndf.groupby(df.date.str[:7]).rev.sum().plot().figure.savefig('revenue.png')\nprint('saved')",
        "saved",
        "Saved the monthly revenue plot to revenue.png.",
        None,
    ),
    (
        "Which product had the highest revenue?",
        "print(df.groupby('product').rev.sum().idxmax())",
        "Widget-7",
        "Widget-7 had the highest revenue.",
        None,
    ),
    (
        "How much revenue did Widget-7 bring in?",
        "print(df[df['product'] == 'Widget-7'].rev.sum())",
        "9120.0",
        "Widget-7 brought in 9,120.00 EUR.",
        "Widget-7",
    ),
    (
        "What share of March revenue was from the North region?",
        "print(round(100 * m[m.region == 'North'].eval('units*price').sum() / 48210.5, 1))",
        "41.3",
        "The North region made 41.3% of March revenue.",
        "48,210.50",
    ),
    (
        "Count the orders with more than 10 units.",
        "print((df.units > 10).sum())",
        "212",
        "212 orders had more than 10 units.",
        None,
    ),
    (
        "What is the median order size in units?",
        "print(df.units.median())",
        "4.0",
        "The median order is 4 units.",
        None,
    ),
    (
        "Which day had the most orders?",
        "print(df.date.value_counts().idxmax())",
        "2026-03-14",
        "2026-03-14 had the most orders.",
        None,
    ),
    (
        "How many orders were placed that day?",
        "print(df.date.value_counts().max())",
        "41",
        "41 orders were placed on 2026-03-14.",
        "2026-03-14",
    ),
    (
        "Save the top 10 products by revenue to top10.csv.",
        "df.groupby('product').rev.sum().nlargest(10).to_csv('top10.csv')\nprint('saved')",
        "saved",
        "Saved the top 10 products to top10.csv.",
        None,
    ),
    (
        "What is the revenue growth from March to April in percent?",
        "print(round(100 * (51377.0 - 48210.5) / 48210.5, 2))",
        "6.57",
        "Revenue grew 6.57% from March to April.",
        "51,377.00",
    ),
    (
        "Which region had the lowest average price?",
        "print(df.groupby('region').price.mean().idxmin())",
        "South",
        "South had the lowest average price.",
        None,
    ),
    (
        "Remind me: what was the total March revenue again?",
        "print(48210.5)",
        "48210.5",
        "Total March revenue was 48,210.50 EUR.",
        "48,210.50",
    ),
    (
        "How many distinct products did the North sell?",
        "print(df[df.region == 'North']['product'].nunique())",
        "29",
        "The North sold 29 distinct products.",
        None,
    ),
    (
        "Summarize the key numbers we found.",
        "print('done')",
        "done",
        "March 48,210.50 EUR, April 51,377.00 EUR (+6.57%), North leads in units, Widget-7 tops revenue.",
        "Widget-7",
    ),
]


def record(question: str, code: str, output: str, answer: str) -> RunRecord:
    ex = Execution(code=code, language="python", exit_code=0, output=output + "\n")
    return RunRecord(
        query=question,
        final_answer=answer,
        final_code=code,
        resolved=True,
        final_rung="smollm2",
        attempts=[RungAttempt(rung="smollm2", executions=[ex])],
    )


def full_history(done: list[RunRecord]) -> str | None:
    parts = [
        f"Q: {r.query}\nCode:\n```python\n{r.final_code}\n```\nOutput: {r.attempts[0].executions[0].output.strip()}\n"
        f"A: {r.final_answer}"
        for r in done
    ]
    return "\n".join(parts) or None


async def main() -> None:
    rung = load_settings(None).ladder.resolved()[0]
    client = build_client(rung)

    def tokens(text: str) -> int:
        return client.count_tokens([UserMessage(content=text, source="user")])

    with tempfile.TemporaryDirectory() as tmp:
        bank = SolutionBank(BankSettings(path=Path(tmp) / "bank"))
        plain = Conversation(context_turns=3)
        memory = Conversation(memory=SummaryBufferContext(client, keep_turns=3), recall=TurnMemory(bank.store, "bench"))
        done: list[RunRecord] = []
        rows = []
        for i, (question, code, output, answer, needs) in enumerate(TURNS, 1):
            contexts = {
                "full history": full_history(done),
                "last 3 raw": (await plain.query(question)).history,
                "summary buffer + recall": (await memory.query(question)).history,
            }
            counts = {name: tokens(first_message(question, [], history=ctx)) for name, ctx in contexts.items()}
            kept = {name: (needs is None or (ctx is not None and needs in ctx)) for name, ctx in contexts.items()}
            rows.append((i, counts, kept, needs))
            rec = record(question, code, output, answer)
            done.append(rec)
            await plain.add(rec)
            await memory.add(rec)
            await memory.summarize()  # chat does this after the answer is shown
        assert memory.memory is not None
        usage = memory.memory.usage
        bank.close()

    names = ["full history", "last 3 raw", "summary buffer + recall"]
    print("first-message tokens per turn (SmolLM2 tokenizer); '!' = a fact the question needs is missing")
    print(f"{'turn':>4}  " + "  ".join(f"{n:>24}" for n in names))
    for i, counts, kept, _ in rows:
        if i in (1, 2, 3, 5, 10, 15, 18, 20):
            print(
                f"{i:>4}  "
                + "  ".join(f"{counts[n]:>23}{'' if kept[n] else '!'}{' ' if kept[n] else ''}" for n in names)
            )
    print()
    needing = [r for r in rows if r[3] is not None]
    for n in names:
        per_turn = [c[n] for _, c, _, _ in rows]
        kept = sum(k[n] for _, _, k, _ in needing)
        print(
            f"{n:<24} median {statistics.median(per_turn):>6.0f} · turn 20 {per_turn[-1]:>5} · total {sum(per_turn):>6} · "
            f"vs full history {sum(per_turn) / sum(c['full history'] for _, c, _, _ in rows):.2f} · "
            f"needed facts present {kept}/{len(needing)}"
        )
    print(
        f"summarizer (SmolLM2) spent {usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens "
        f"over the session (not in the totals above)"
    )
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
