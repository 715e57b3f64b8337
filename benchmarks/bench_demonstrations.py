"""EcoAssistant's demonstration effect, measured on a real model (the bundled SmolLM2).

30 small computational tasks with exact answers, each written as a pair of
paraphrases. One of each pair is banked with code that solves it (what a person's
thumbs-up on a stronger rung's solution would bank); SmolLM2 then runs the *other*
paraphrase twice: with the bank (it gets the similar solved query as a
demonstration in its first message) and without. A run succeeds when the exact
answer appears in the executed code's output (the ``expected`` judge).

Prints success rate and tokens per solved task for both runs, and the ratio.

Usage: .venv/bin/python benchmarks/bench_demonstrations.py [--limit N] [--max-turns 4]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time

# (banked paraphrase, paraphrase that is run, code that solves both)
TASKS: list[tuple[str, str, str]] = [
    ("What is 17 multiplied by 23?", "Compute the product of 17 and 23.", "print(17 * 23)"),
    ("What is the sum of all integers from 1 to 100?", "Add up every whole number from 1 to 100 inclusive.", "print(sum(range(1, 101)))"),
    ("How many prime numbers are there below 1000?", "Count the primes smaller than 1000.",
     "print(len([n for n in range(2, 1000) if all(n % d for d in range(2, int(n ** 0.5) + 1))]))"),
    ("What is 2 to the power of 20?", "Calculate 2 raised to the 20th power.", "print(2 ** 20)"),
    ("What is the factorial of 10?", "Compute 10 factorial.", "import math\nprint(math.factorial(10))"),
    ("What is the 20th Fibonacci number, with F1 = F2 = 1?", "Give the Fibonacci number at position 20 (the sequence starts 1, 1).",
     "a, b = 1, 1\nfor _ in range(18):\n    a, b = b, a + b\nprint(b)"),
    ("What is the sum of the squares of the numbers 1 to 10?", "Add up n squared for n from 1 to 10.", "print(sum(n * n for n in range(1, 11)))"),
    ("What is the string 'ecoagent' reversed?", "Reverse the text 'ecoagent'.", "print('ecoagent'[::-1])"),
    ("What is the greatest common divisor of 7469 and 2387?", "Find the GCD of 7469 and 2387.", "import math\nprint(math.gcd(7469, 2387))"),
    ("What is the least common multiple of 12, 18 and 30?", "Find the LCM of 12, 18 and 30.", "import math\nprint(math.lcm(12, 18, 30))"),
    ("What is the sum of the digits of 2 to the power of 100?", "Add up the decimal digits of 2**100.", "print(sum(int(d) for d in str(2 ** 100)))"),
    ("How many days are there from 2024-01-01 to 2024-12-31, counting both?", "Count the days of 2024 from January 1 to December 31 inclusive.",
     "from datetime import date\nprint((date(2024, 12, 31) - date(2024, 1, 1)).days + 1)"),
    ("Convert 100 degrees Fahrenheit to Celsius, rounded to 2 decimals.", "What is 100 F in Celsius, to two decimal places?", "print(round((100 - 32) * 5 / 9, 2))"),
    ("What is the square root of 2 rounded to 6 decimal places?", "Give sqrt(2) to 6 decimals.", "print(round(2 ** 0.5, 6))"),
    ("What is 123456 modulo 97?", "Compute the remainder of 123456 divided by 97.", "print(123456 % 97)"),
    ("How many letters, not counting spaces, are in 'the quick brown fox jumps over the lazy dog'?",
     "Count the non-space characters in 'the quick brown fox jumps over the lazy dog'.", "print(len('the quick brown fox jumps over the lazy dog'.replace(' ', '')))"),
    ("What is the mean of 3, 8, 15, 22 and 42?", "Average the numbers 3, 8, 15, 22, 42.", "print(sum([3, 8, 15, 22, 42]) / 5)"),
    ("What is the binary representation of 2024?", "Write 2024 in base 2.", "print(bin(2024)[2:])"),
    ("What is the hexadecimal representation of 48879?", "Convert 48879 to hexadecimal.", "print(hex(48879)[2:])"),
    ("What is the sum of all even numbers from 1 to 200?", "Add up the even integers between 1 and 200.", "print(sum(range(2, 201, 2)))"),
    ("How many multiples of 7 are there between 1 and 1000?", "Count the numbers from 1 to 1000 that are divisible by 7.", "print(1000 // 7)"),
    ("What is the product of the digits of 98765?", "Multiply together the digits of 98765.", "import math\nprint(math.prod(int(d) for d in '98765'))"),
    ("What is the area of a circle with radius 3, rounded to 2 decimals?", "Compute pi times 3 squared, to 2 decimal places.", "import math\nprint(round(math.pi * 3 ** 2, 2))"),
    ("What is 1234 times 5678?", "Multiply 1234 by 5678.", "print(1234 * 5678)"),
    ("What is the sum of the cubes of the numbers 1 to 10?", "Add up n cubed for n from 1 to 10.", "print(sum(n ** 3 for n in range(1, 11)))"),
    ("How many seconds are there in a week?", "Compute the number of seconds in seven days.", "print(7 * 24 * 60 * 60)"),
    ("How many characters are in 'supercalifragilisticexpialidocious'?", "Give the length of the word 'supercalifragilisticexpialidocious'.",
     "print(len('supercalifragilisticexpialidocious'))"),
    ("What is the largest prime number below 500?", "Find the biggest prime smaller than 500.",
     "print(max(n for n in range(2, 500) if all(n % d for d in range(2, int(n ** 0.5) + 1))))"),
    ("What is the sum of all primes below 50?", "Add up the prime numbers smaller than 50.",
     "print(sum(n for n in range(2, 50) if all(n % d for d in range(2, int(n ** 0.5) + 1))))"),
    ("What is 15 percent of 2480?", "Compute 15% of 2480.", "print(2480 * 15 / 100)"),
]  # fmt: skip


def answer_of(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<reference>", "exec"), {})  # noqa: S102 - our own reference solutions
    return out.getvalue().strip()


def run_all(tasks: list[tuple[str, str, str]], banked: bool, max_turns: int) -> dict[str, float]:
    from ecoagent import EcoAssistant
    from ecoagent.config import RunSettings, Settings

    home = tempfile.mkdtemp(prefix="bench-demos-")
    os.environ["ECOAGENT_HOME"] = home
    eco = EcoAssistant(Settings(run=RunSettings(max_turns=max_turns, judge="expected")))
    if banked:
        for query, _, code in tasks:
            eco.bank.add(query, code, answer=answer_of(code), rung="reference")
    solved = tokens = hits = 0
    t0 = time.perf_counter()
    for i, (banked_query, query, code) in enumerate(tasks, 1):
        expected = answer_of(code)
        record = eco.run_sync(query, expected=expected)
        got_demo = any(d.query == banked_query for d in record.demonstrations)
        hits += got_demo
        solved += record.resolved
        tokens += record.tokens
        mark = "solved" if record.resolved else "failed"
        print(f"  [{'bank' if banked else 'none'}] {i:2d}/{len(tasks)} {mark:6} tokens={record.tokens:5d} "
              f"demo={'yes' if got_demo else 'no ':3} {query[:60]}", flush=True)  # fmt: skip
    eco.close()
    return {
        "tasks": len(tasks),
        "solved": solved,
        "success_rate": solved / len(tasks),
        "tokens": tokens,
        "tokens_per_solved": tokens / solved if solved else float("inf"),
        "demo_hits": hits,
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=len(TASKS))
    parser.add_argument("--max-turns", type=int, default=4)
    args = parser.parse_args()
    tasks = TASKS[: args.limit]
    without = run_all(tasks, banked=False, max_turns=args.max_turns)
    with_bank = run_all(tasks, banked=True, max_turns=args.max_turns)
    print(f"\nSmolLM2-135M-Instruct, {len(tasks)} tasks, judge=expected, max_turns={args.max_turns}")
    print(f"{'run':16} {'solved':>7} {'success':>8} {'tokens':>8} {'tokens/solved':>14} {'demo hits':>10} {'time s':>7}")
    for name, r in (("without bank", without), ("with bank", with_bank)):
        print(f"{name:16} {r['solved']:>7} {r['success_rate']:>8.0%} {r['tokens']:>8} {r['tokens_per_solved']:>14.0f} "
              f"{r['demo_hits']:>10} {r['seconds']:>7.0f}")  # fmt: skip
    if without["solved"] and with_bank["solved"]:
        print(f"success ratio with/without: {with_bank['success_rate'] / without['success_rate']:.2f}; "
              f"tokens per solved task with/without: {with_bank['tokens_per_solved'] / without['tokens_per_solved']:.2f}")


if __name__ == "__main__":
    main()
