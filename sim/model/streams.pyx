# cython: language_level=3
"""A drill's random streams: ``random.Random``, compiled, for the draws a drill makes.

The stdlib's Mersenne Twister is C, but seeding one starts over from a fixed state each time,
and its distributions (``gauss``, ``uniform``, ``lognormvariate``, ``choice``, ``shuffle``) are
interpreted Python; a drill seeds about a dozen streams and draws from them at every turn of
every bot. ``Stream`` is the same generator, seeded from the same key (a ``str`` through sha512,
a ``float`` through its hash, an ``int`` as itself, as ``random.seed`` does), giving the same
53-bit floats and the same draws by the same arithmetic, with libm's functions as ``math``
calls them. The engine uses it where the build compiled it and ``random.Random`` where it runs
from source; tests/test_streams.py holds every draw to the stdlib's over thousands of seeds.
"""

from hashlib import sha512
from random import NV_MAGICCONST as _NV_MAGICCONST
from random import TWOPI as _TWOPI
from random import Random as _Random

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.math cimport cos, exp, log, sin, sqrt
from libc.stdint cimport uint32_t
from libc.string cimport memcpy

cdef enum:
    N = 624
    M = 397

cdef uint32_t MATRIX_A = 0x9908b0dfU
cdef uint32_t UPPER_MASK = 0x80000000U
cdef uint32_t LOWER_MASK = 0x7fffffffU
cdef double TWOPI = _TWOPI, NV_MAGICCONST = _NV_MAGICCONST  # random.py's own

# Every seeding starts from init_genrand(19650218) (_randommodule.c): worked out once.
cdef uint32_t _START[N]


cdef void _init_genrand(uint32_t *mt, uint32_t s) noexcept:
    cdef int i
    mt[0] = s
    for i in range(1, N):
        mt[i] = 1812433253U * (mt[i - 1] ^ (mt[i - 1] >> 30)) + <uint32_t>i


_init_genrand(_START, 19650218U)


cdef class Stream:
    """``random.Random(seed)``, draw for draw: its ``random``, ``gauss``, ``uniform``,
    ``normalvariate``, ``lognormvariate``, ``getrandbits``, ``choice`` and ``shuffle`` compiled,
    and its other draws (``randrange``, ``randint``, ``sample``, ...) its own code over these.
    It has no state to get or set."""

    cdef uint32_t mt[N]
    cdef int index
    cdef public object gauss_next

    randrange, randint, choices, sample = (_Random.randrange, _Random.randint,
                                           _Random.choices, _Random.sample)
    triangular, expovariate, betavariate = (_Random.triangular, _Random.expovariate,
                                            _Random.betavariate)
    gammavariate, paretovariate, weibullvariate = (_Random.gammavariate, _Random.paretovariate,
                                                   _Random.weibullvariate)
    vonmisesvariate, randbytes = _Random.vonmisesvariate, _Random.randbytes

    def __init__(self, seed):
        self.seed(seed)

    def seed(self, a) -> None:
        cdef Py_hash_t h
        if isinstance(a, str):
            a = a.encode()
        if isinstance(a, (bytes, bytearray)):
            n = int.from_bytes(a + sha512(a).digest(), "big")
        elif isinstance(a, int):
            n = abs(a)
        elif isinstance(a, float):
            h = hash(a)
            n = <size_t>h  # the hash as unsigned, as random_seed casts it
        else:
            raise TypeError("a stream's seed is a str, bytes, int or float")
        words = max(1, (n.bit_length() + 31) // 32)
        self._seed_words(n.to_bytes(4 * words, "little"), words)
        self.gauss_next = None

    cdef void _seed_words(self, bytes key, size_t length) except *:
        """``init_by_array`` of the key's little-endian 32-bit words, made once (not a word's
        four bytes put together at each of the 624 steps that read one: speed)."""
        cdef const unsigned char *b = key
        cdef uint32_t *words = <uint32_t *>PyMem_Malloc(length * sizeof(uint32_t))
        cdef size_t j
        if words == NULL:
            raise MemoryError()
        for j in range(length):
            words[j] = (b[4 * j] | (<uint32_t>b[4 * j + 1] << 8) | (<uint32_t>b[4 * j + 2] << 16)
                        | (<uint32_t>b[4 * j + 3] << 24))
        self._init_by_array(words, length)
        PyMem_Free(words)

    cdef void _init_by_array(self, const uint32_t *key, size_t length) noexcept:
        cdef uint32_t *mt = self.mt
        cdef uint32_t prev
        cdef size_t i = 1, j = 0, k
        memcpy(mt, _START, sizeof(_START))
        prev = mt[0]
        k = N if N > length else length
        while k:
            prev = mt[i] = (mt[i] ^ ((prev ^ (prev >> 30)) * 1664525U)) + key[j] + <uint32_t>j
            i += 1
            j += 1
            if i >= N:
                mt[0] = prev
                i = 1
            if j >= length:
                j = 0
            k -= 1
        k = N - 1
        while k:
            prev = mt[i] = (mt[i] ^ ((prev ^ (prev >> 30)) * 1566083941U)) - <uint32_t>i
            i += 1
            if i >= N:
                mt[0] = prev
                i = 1
            k -= 1
        mt[0] = 0x80000000U
        self.index = N

    cdef uint32_t _next(self) noexcept:
        # The state is twisted word by word as drawn, not all 624 words when the first is: the
        # same words (word kk of a twist reads words before it twisted and after it not yet, in
        # either order of work), and a stream that draws a few (most of a drill's) twists a few
        cdef uint32_t *mt = self.mt
        cdef uint32_t y
        cdef int kk = self.index
        if kk >= N:
            kk = 0
        y = (mt[kk] & UPPER_MASK) | (mt[kk + 1 if kk + 1 < N else 0] & LOWER_MASK)
        mt[kk] = mt[kk + M if kk < N - M else kk + M - N] ^ (y >> 1) ^ (MATRIX_A if y & 1 else 0)
        y = mt[kk]
        self.index = kk + 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c5680U
        y ^= (y << 15) & 0xefc60000U
        y ^= y >> 18
        return y

    cdef double _random(self) noexcept:
        cdef uint32_t a = self._next() >> 5, b = self._next() >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)

    def random(self) -> float:
        return self._random()

    def getrandbits(self, int k):
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        if k <= 32:
            return self._next() >> (32 - k) if k else 0
        words = []
        while k > 0:  # 32-bit words from the least significant, the last cut to what is left
            words.append(self._next() >> (32 - k) if k < 32 else self._next())
            k -= 32
        return sum(w << (32 * i) for i, w in enumerate(words))

    cdef Py_ssize_t _below(self, Py_ssize_t n):
        """``_randbelow_with_getrandbits(n)`` for n from 1 to 2**32 - 1."""
        cdef int k = 0
        cdef Py_ssize_t r, m = n
        while m:
            k += 1
            m >>= 1
        r = self._next() >> (32 - k) if k else 0
        while r >= n:
            r = self._next() >> (32 - k)
        return r

    def _randbelow(self, n):
        if not 1 <= n < 1 << 32:
            k = n.bit_length()
            r = self.getrandbits(k)
            while r >= n:
                r = self.getrandbits(k)
            return r
        return self._below(n)

    def choice(self, seq):
        if not len(seq):
            raise IndexError("Cannot choose from an empty sequence")
        return seq[self._randbelow(len(seq))]

    def shuffle(self, x) -> None:
        cdef Py_ssize_t i, j
        for i in range(len(x) - 1, 0, -1):
            j = self._randbelow(i + 1)
            x[i], x[j] = x[j], x[i]

    def uniform(self, a, b):
        return a + (b - a) * self._random()

    def gauss(self, double mu=0.0, double sigma=1.0) -> float:
        cdef double x2pi, g2rad, z
        if self.gauss_next is None:
            x2pi = self._random() * TWOPI
            g2rad = sqrt(-2.0 * log(1.0 - self._random()))
            z = cos(x2pi) * g2rad
            self.gauss_next = sin(x2pi) * g2rad
        else:
            z = self.gauss_next
            self.gauss_next = None
        return mu + z * sigma

    cdef double _normal(self, double mu, double sigma) noexcept:
        cdef double u1, u2, z
        while True:
            u1 = self._random()
            u2 = 1.0 - self._random()
            z = NV_MAGICCONST * (u1 - 0.5) / u2
            if z * z / 4.0 <= -log(u2):
                return mu + z * sigma

    def normalvariate(self, double mu=0.0, double sigma=1.0) -> float:
        return self._normal(mu, sigma)

    def lognormvariate(self, double mu, double sigma) -> float:
        return exp(self._normal(mu, sigma))
