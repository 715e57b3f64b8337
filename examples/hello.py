# A first block for `ecoagent sandbox run`: runs exactly as the assistant's code would.
import math
import platform

import numpy as np

primes = [n for n in range(2, 50) if all(n % d for d in range(2, int(math.isqrt(n)) + 1))]
print(f"Python {platform.python_version()} in the sandbox, numpy {np.__version__}")
print(f"primes below 50: {primes}")
print(f"their sum: {sum(primes)}")
