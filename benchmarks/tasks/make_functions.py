"""Write ``functions.jsonl``: function-writing tasks judged by tests, for the teacher set.

The broad teacher set (``make_teacher.py``) asks questions whose answer is printed. Users
of a code-executing assistant also ask for *functions* ("write a function that ..."), and
an adapter trained only on printed answers learns to print one-liners where a function
is due (measured: the shipped adapter passed 0 of HumanEval's 82 even problems, against
2 for the plain model). Each family here is one small function: a few entry-point names,
a signature, a description, the reference body and a generator of test inputs. A task
asks for it in one of two shapes, a signature with a docstring and an example (the
bench's HumanEval instruction, :func:`ecoagent.bench.humaneval.query_for`) or a sentence
("Write a Python function ..."), and is judged by ``check(candidate)`` asserts whose
expected values are the reference function's own results, computed here.

No family is a HumanEval problem and no entry point has a HumanEval entry point's name
(tests/test_teacher_set.py checks the names against the installed package). A few
concepts are close (HumanEval asks for a rolling maximum, these for running totals).

    .venv/bin/python benchmarks/tasks/make_functions.py [--per-family 13] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "functions.jsonl"
WORDS = [
    "apple",
    "river",
    "stone",
    "cloud",
    "orange",
    "ember",
    "island",
    "tiger",
    "umbrella",
    "violet",
    "yarn",
    "quiet",
    "echo",
    "delta",
    "night",
    "ocean",
    "pencil",
    "rocket",
    "anchor",
    "lemon",
]

Inputs = Callable[[random.Random], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class FnFamily:
    """One small function: names to ask it by, its signature and description, the reference body."""

    name: str
    category: str
    names: tuple[str, ...]
    signature: str
    describe: str
    body: str
    inputs: Inputs


def _ints(r: random.Random, n: int, lo: int = -20, hi: int = 50) -> list[int]:
    return [r.randint(lo, hi) for _ in range(n)]


def _words(r: random.Random, n: int) -> list[str]:
    return r.sample(WORDS, n)


def _text(r: random.Random, n: int) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n))


def _families() -> list[FnFamily]:
    F = FnFamily
    ri = random.Random.randint
    return [
        F(
            "fn-count-char",
            "strings",
            ("count_char", "occurrences", "count_letter"),
            "(text: str, ch: str) -> int",
            "Return how many times the character ch occurs in text.",
            "    return text.count(ch)",
            lambda r: [(w, r.choice(w)) for w in _words(r, 4)] + [("banana", "a"), ("", "a"), ("banana", "z")],
        ),
        F(
            "fn-clamp",
            "numbers",
            ("clamp", "limit_to", "bound"),
            "(x: int, lo: int, hi: int) -> int",
            "Return x limited to the range lo..hi: lo if x is below it, hi if x is above it, else x itself.",
            "    return max(lo, min(hi, x))",
            lambda r: [(ri(r, -50, 50), -10, 10) for _ in range(4)] + [(-10, -10, 10), (99, 0, 5)],
        ),
        F(
            "fn-running-total",
            "lists",
            ("running_total", "cumulative_sums", "prefix_sums"),
            "(nums: list[int]) -> list[int]",
            "Return the running totals of nums: element i of the result is the sum of nums[0] through nums[i].",
            "    out, total = [], 0\n    for n in nums:\n        total += n\n        out.append(total)\n    return out",
            lambda r: [(_ints(r, ri(r, 3, 7)),) for _ in range(3)] + [([],), ([5],)],
        ),
        F(
            "fn-chunk",
            "lists",
            ("chunks", "chunked", "split_every"),
            "(items: list, size: int) -> list[list]",
            "Split items into consecutive lists of length size; the last list may be shorter.",
            "    return [items[i:i + size] for i in range(0, len(items), size)]",
            lambda r: [(_ints(r, ri(r, 4, 9)), ri(r, 2, 4)) for _ in range(3)] + [([], 3), ([1, 2], 5)],
        ),
        F(
            "fn-flatten",
            "lists",
            ("flatten", "flatten_once", "join_lists"),
            "(lists: list[list]) -> list",
            "Return one list holding the elements of every inner list, in order.",
            "    return [x for inner in lists for x in inner]",
            lambda r: (
                [([_ints(r, ri(r, 0, 3)) for _ in range(ri(r, 2, 4))],) for _ in range(3)] + [([],), ([[], [7]],)]
            ),
        ),
        F(
            "fn-dedupe",
            "lists",
            ("dedupe", "unique_in_order", "drop_repeats"),
            "(items: list) -> list",
            "Return the items without repeats, keeping the first occurrence of each and the original order.",
            "    seen, out = set(), []\n    for x in items:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out",
            lambda r: [(_ints(r, ri(r, 5, 9), 0, 5),) for _ in range(3)] + [([],), (["b", "a", "b"],)],
        ),
        F(
            "fn-digit-product",
            "numbers",
            ("digit_product", "product_of_digits", "multiply_digits"),
            "(n: int) -> int",
            "Return the product of the decimal digits of the non-negative integer n.",
            "    p = 1\n    for d in str(n):\n        p *= int(d)\n    return p",
            lambda r: [(ri(r, 10, 99999),) for _ in range(4)] + [(0,), (7,)],
        ),
        F(
            "fn-leap",
            "dates",
            ("is_leap", "leap_year", "is_leap_year"),
            "(year: int) -> bool",
            "Return True if year is a leap year in the Gregorian calendar, else False.",
            "    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
            lambda r: [(ri(r, 1890, 2100),) for _ in range(3)] + [(1900,), (2000,), (2024,)],
        ),
        F(
            "fn-c-to-f",
            "units",
            ("to_fahrenheit", "celsius_to_fahrenheit", "c_to_f"),
            "(celsius: float) -> float",
            "Convert a temperature in degrees Celsius to degrees Fahrenheit, rounded to one decimal place.",
            "    return round(celsius * 9 / 5 + 32, 1)",
            lambda r: [(ri(r, -40, 120),) for _ in range(3)] + [(0,), (36.6,)],
        ),
        F(
            "fn-count-words",
            "strings",
            ("count_words", "word_count", "num_words"),
            "(text: str) -> int",
            "Return the number of words in text; words are separated by whitespace.",
            "    return len(text.split())",
            lambda r: [(_text(r, ri(r, 1, 8)),) for _ in range(3)] + [("",), ("  two   words ",)],
        ),
        F(
            "fn-invert-dict",
            "dicts",
            ("invert", "invert_dict", "swap_keys_values"),
            "(d: dict) -> dict",
            "Return a new dict that maps each value of d to its key (the values of d are distinct).",
            "    return {v: k for k, v in d.items()}",
            lambda r: [(dict(zip(_words(r, 3), r.sample(range(100), 3), strict=True)),) for _ in range(3)] + [({},)],
        ),
        F(
            "fn-merge-sorted",
            "lists",
            ("merge_sorted", "merge_two", "combine_sorted"),
            "(a: list[int], b: list[int]) -> list[int]",
            "Merge two lists that are each sorted in ascending order into one list sorted in ascending order.",
            "    out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n            out.append(a[i])\n"
            "            i += 1\n        else:\n            out.append(b[j])\n            j += 1\n    return out + a[i:] + b[j:]",
            lambda r: [(sorted(_ints(r, ri(r, 0, 5))), sorted(_ints(r, ri(r, 1, 5)))) for _ in range(4)] + [([], [])],
        ),
        F(
            "fn-char-counts",
            "strings",
            ("char_counts", "letter_frequency", "tally_chars"),
            "(text: str) -> dict[str, int]",
            "Return a dict that maps each character of text to the number of times it occurs.",
            "    counts = {}\n    for c in text:\n        counts[c] = counts.get(c, 0) + 1\n    return counts",
            lambda r: [(w,) for w in _words(r, 3)] + [("",), ("aab",)],
        ),
        F(
            "fn-rotate",
            "lists",
            ("rotate_left", "rotate", "shift_left"),
            "(items: list, k: int) -> list",
            "Return items rotated left by k positions; k may be larger than the length, and an empty list stays empty.",
            "    if not items:\n        return []\n    k %= len(items)\n    return items[k:] + items[:k]",
            lambda r: [(_ints(r, ri(r, 3, 6)), ri(r, 0, 9)) for _ in range(4)] + [([], 3)],
        ),
        F(
            "fn-to-binary",
            "encodings",
            ("to_binary", "binary_digits", "as_binary"),
            "(n: int) -> str",
            "Return the binary representation of the non-negative integer n as a string of 0s and 1s, with no prefix.",
            "    return bin(n)[2:]",
            lambda r: [(ri(r, 1, 5000),) for _ in range(4)] + [(0,), (1,)],
        ),
        F(
            "fn-sum-multiples",
            "numbers",
            ("sum_multiples", "multiples_sum", "total_of_multiples"),
            "(limit: int, a: int, b: int) -> int",
            "Return the sum of all positive integers below limit that are divisible by a or by b.",
            "    return sum(n for n in range(1, limit) if n % a == 0 or n % b == 0)",
            lambda r: [(ri(r, 10, 500), ri(r, 2, 7), ri(r, 2, 11)) for _ in range(4)] + [(1, 3, 5)],
        ),
        F(
            "fn-longest-word",
            "strings",
            ("longest_word", "find_longest_word", "widest_word"),
            "(text: str) -> str",
            "Return the longest word in text (words are separated by spaces); on a tie, the one that comes first.",
            "    return max(text.split(), key=len)",
            lambda r: [(_text(r, ri(r, 2, 7)),) for _ in range(4)] + [("a bb cc",)],
        ),
        F(
            "fn-mean",
            "statistics",
            ("mean", "average", "avg"),
            "(nums: list[float]) -> float",
            "Return the arithmetic mean of nums rounded to two decimal places, or 0.0 for an empty list.",
            "    return round(sum(nums) / len(nums), 2) if nums else 0.0",
            lambda r: [(_ints(r, ri(r, 1, 7)),) for _ in range(4)] + [([],)],
        ),
        F(
            "fn-differences",
            "lists",
            ("differences", "pairwise_diffs", "steps_between"),
            "(nums: list[int]) -> list[int]",
            "Return the differences between neighbouring elements: element i of the result is nums[i + 1] - nums[i].",
            "    return [b - a for a, b in zip(nums, nums[1:])]",
            lambda r: [(_ints(r, ri(r, 2, 7)),) for _ in range(4)] + [([3],)],
        ),
        F(
            "fn-vowel-words",
            "strings",
            ("count_vowel_words", "vowel_initial", "words_starting_with_vowel"),
            "(words: list[str]) -> int",
            "Return how many of the words start with a vowel (a, e, i, o or u, in either case).",
            "    return sum(1 for w in words if w[:1].lower() in ('a', 'e', 'i', 'o', 'u'))",
            lambda r: [(_words(r, ri(r, 2, 6)),) for _ in range(3)] + [([],), (["Echo", "", "x"],)],
        ),
        F(
            "fn-run-length",
            "encodings",
            ("run_length", "rle_encode", "compress_runs"),
            "(text: str) -> str",
            "Run-length encode text: each run of one repeated character becomes the character followed by the run's length.",
            "    out, i = '', 0\n    while i < len(text):\n        j = i\n        while j < len(text) and text[j] == text[i]:\n"
            "            j += 1\n        out += text[i] + str(j - i)\n        i = j\n    return out",
            lambda r: (
                [("".join(r.choice("ab") * ri(r, 1, 3) for _ in range(ri(r, 2, 5))),) for _ in range(4)] + [("",)]
            ),
        ),
        F(
            "fn-transpose",
            "lists",
            ("transpose", "flip_matrix", "columns_of"),
            "(matrix: list[list[int]]) -> list[list[int]]",
            "Return the transpose of a rectangular matrix given as a list of its rows.",
            "    return [list(row) for row in zip(*matrix)]",
            lambda r: [([_ints(r, c, 0, 9) for _ in range(ri(r, 1, 3))],) for c in (1, 2, 3, 2)] + [([],)],
        ),
        F(
            "fn-safe-divide",
            "numbers",
            ("safe_divide", "divide_or_none", "checked_div"),
            "(a: float, b: float) -> float | None",
            "Return a divided by b, or None when b is zero.",
            "    return None if b == 0 else a / b",
            lambda r: [(ri(r, -50, 50), ri(r, 1, 9)) for _ in range(4)] + [(5, 0)],
        ),
        F(
            "fn-argmax",
            "lists",
            ("index_of_max", "argmax", "position_of_largest"),
            "(nums: list[int]) -> int",
            "Return the index of the largest element of nums (the first one on a tie), or -1 for an empty list.",
            "    return max(range(len(nums)), key=lambda i: (nums[i], -i)) if nums else -1",
            lambda r: [(_ints(r, ri(r, 1, 7), 0, 9),) for _ in range(4)] + [([],), ([2, 5, 5],)],
        ),
        F(
            "fn-zip-dict",
            "dicts",
            ("make_dict", "zip_to_dict", "pair_up"),
            "(keys: list[str], values: list[int]) -> dict[str, int]",
            "Return a dict that pairs keys[i] with values[i]; extra items of the longer list are ignored.",
            "    return dict(zip(keys, values))",
            lambda r: [(_words(r, ri(r, 1, 4)), _ints(r, ri(r, 1, 4))) for _ in range(4)],
        ),
        F(
            "fn-count-positive",
            "lists",
            ("count_positive", "num_positive", "how_many_positive"),
            "(nums: list[int]) -> int",
            "Return how many elements of nums are greater than zero.",
            "    return sum(1 for n in nums if n > 0)",
            lambda r: [(_ints(r, ri(r, 1, 8)),) for _ in range(4)] + [([],), ([0, 0],)],
        ),
        F(
            "fn-snake-case",
            "strings",
            ("snake_case", "to_snake_case", "underscore_words"),
            "(text: str) -> str",
            "Return text in snake_case: its words in lower case joined by underscores (words are separated by spaces).",
            "    return '_'.join(text.lower().split())",
            lambda r: [(" ".join(w.capitalize() for w in _words(r, ri(r, 1, 4))),) for _ in range(4)] + [("",)],
        ),
        F(
            "fn-nth-largest",
            "lists",
            ("nth_largest", "kth_largest", "rank_value"),
            "(nums: list[int], n: int) -> int",
            "Return the n-th largest element of nums: n = 1 is the maximum, and repeated values count separately.",
            "    return sorted(nums, reverse=True)[n - 1]",
            lambda r: [(_ints(r, k, 0, 20), ri(r, 1, k)) for k in (3, 5, 6, 4)] + [([4, 4, 1], 2)],
        ),
        F(
            "fn-anagram",
            "strings",
            ("is_anagram", "anagram_check", "are_anagrams"),
            "(a: str, b: str) -> bool",
            "Return True if a and b hold the same letters the same number of times, ignoring case and spaces.",
            "    def norm(s: str) -> list[str]:\n        return sorted(s.replace(' ', '').lower())\n    return norm(a) == norm(b)",
            lambda r: (
                [(w, "".join(r.sample(w, len(w)))) for w in _words(r, 2)]
                + [(w, w + "s") for w in _words(r, 2)]
                + [("Dormitory", "dirty room")]
            ),
        ),
        F(
            "fn-hms",
            "dates",
            ("format_duration", "to_hms", "as_clock"),
            "(seconds: int) -> str",
            "Format a number of seconds as hours, minutes and seconds, H:MM:SS (3725 becomes '1:02:05').",
            "    h, rest = divmod(seconds, 3600)\n    m, s = divmod(rest, 60)\n    return f'{h}:{m:02d}:{s:02d}'",
            lambda r: [(ri(r, 0, 90000),) for _ in range(4)] + [(0,), (59,)],
        ),
    ]


_SENTENCES = (
    "Write a Python function `{name}{sig}`. {desc}",
    "Define a function {name}{sig} in Python. {desc}",
    "I need a Python function called {name}. {desc} Signature: `{name}{sig}`.",
    "Implement `{name}{sig}`: {desc_lower}",
    "Use Python. Write {name}{sig} so that it does this: {desc_lower}",
)


def _call(name: str, args: tuple[Any, ...]) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def _query(family: FnFamily, name: str, example: tuple[Any, ...], result: Any, r: random.Random) -> str:
    from ecoagent.bench.humaneval import query_for

    if r.random() < 0.4:  # the signature-and-docstring shape HumanEval asks in (other problems)
        prompt = f'def {name}{family.signature}:\n    """{family.describe}\n    >>> {_call(name, example)}\n    {result!r}\n    """\n'
        return query_for(prompt)
    desc_lower = family.describe[0].lower() + family.describe[1:]
    return r.choice(_SENTENCES).format(name=name, sig=family.signature, desc=family.describe, desc_lower=desc_lower)


def reference(family: FnFamily, name: str) -> str:
    """The reference solution: the function with the asked name."""
    return f"def {name}{family.signature}:\n{family.body}\n"


def _results(code: str, name: str, cases: list[tuple[Any, ...]]) -> list[Any]:
    scope: dict[str, Any] = {}
    exec(compile(code, "<reference>", "exec"), scope)  # noqa: S102 - our own reference solutions
    return [scope[name](*copy.deepcopy(args)) for args in cases]  # a copy: a function may change its input


def tests_for(name: str, cases: list[tuple[Any, ...]], results: list[Any]) -> str:
    """HumanEval's shape: ``check(candidate)``, one assert per case, expected values computed by the reference."""
    lines = [
        f"    assert candidate({', '.join(repr(a) for a in args)}) == {out!r}"
        for args, out in zip(cases, results, strict=True)
    ]
    return "def check(candidate):\n" + "\n".join(lines) + "\n"


def build(per_family: int = 13, seed: int = 0) -> list[dict[str, str]]:
    """Every family's tasks: ``per_family`` distinct queries each, tests from the reference."""
    tasks: list[dict[str, str]] = []
    for family in _families():
        r = random.Random(f"{seed}:{family.name}")
        seen: set[str] = set()
        for _ in range(per_family * 20):
            if len(seen) >= per_family:
                break
            name = r.choice(family.names)
            cases = family.inputs(r)
            code = reference(family, name)
            results = _results(code, name, cases)
            query = _query(family, name, cases[0], results[0], r)
            if query in seen:
                continue
            seen.add(query)
            # the code the teacher writes calls the function once, so the executor's output shows it ran
            shown = f"{code}\nprint({_call(name, cases[0])})\n"
            tasks.append(
                {
                    "id": f"{family.name}-{len(seen)}",
                    "family": family.name,
                    "category": f"functions/{family.category}",
                    "query": query,
                    "tests": tests_for(name, cases, results),
                    "entry_point": name,
                    "code": shown,
                }
            )
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=13)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tasks = build(args.per_family, args.seed)
    OUT.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
    print(f"wrote {OUT.name}: {len(tasks)} tasks from {len({t['family'] for t in tasks})} families", file=sys.stderr)


if __name__ == "__main__":
    main()
