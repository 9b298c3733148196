"""A drill's random streams, compiled (sim/model/streams.pyx), draw what ``random.Random`` draws:
the same numbers from the same seeds, method for method, in any order of calls."""

import random

import pytest

streams = pytest.importorskip("sim.model.streams", reason="the engine runs from source here: it draws from random.Random")
Stream = streams.Stream


def draws(rng, plan: random.Random, n: int = 40) -> list:
    """``n`` draws from ``rng`` by every method a drill uses and the rest a stream has, in an order
    ``plan`` picks: gauss's second value kept between calls, as random's is."""
    out = []
    for _ in range(n):
        match plan.randrange(13):
            case 0:
                out.append(rng.random())
            case 1:
                out.append(rng.gauss(0.0, 1.0))
            case 2:
                out.append(rng.gauss(2.0, 0.5))
            case 3:
                out.append(rng.uniform(3, 11.5))
            case 4:
                out.append(rng.lognormvariate(0.0, 0.5))
            case 5:
                out.append(rng.normalvariate(1.5, 2.0))
            case 6:
                out.append(rng.choice((-1, 1, 7)))
            case 7:
                cards = list(range(plan.randrange(1, 14)))
                rng.shuffle(cards)
                out.append(cards)
            case 8:
                out.append(rng.getrandbits(plan.randrange(0, 100)))
            case 9:
                out.append(rng._randbelow(plan.choice((1, 2, 5, 1000, 2**32 - 1, 2**40 + 3))))
            case 10:  # what drill generate draws
                out.append((rng.randrange(364), rng.randint(1, 6), rng.sample(range(50), 5), rng.choices("abc", k=3)))
            case 11:
                out.append((rng.expovariate(2.0), rng.triangular(0, 5, 1), rng.gammavariate(2.0, 1.0),
                            rng.betavariate(2.0, 3.0), rng.paretovariate(1.5)))
            case _:
                out.append((rng.weibullvariate(1.0, 2.0), rng.vonmisesvariate(1.0, 4.0), rng.randbytes(9)))
    return out


SEEDS = ([f"{i}/person/alex" for i in range(400)] + [f"{i}/fault/db-failover" for i in range(200)]
         + [random.Random(i).random() for i in range(400)] + list(range(-20, 200)) + [0.0, -0.0, 2**200 + 7, b"bytes", ""])


@pytest.mark.parametrize("chunk", range(4))
def test_a_stream_draws_what_random_draws_from_the_same_seed(chunk):
    for index, seed in enumerate(SEEDS[chunk::4]):
        assert draws(Stream(seed), random.Random(index)) == draws(random.Random(seed), random.Random(index)), seed


def test_an_investigations_factor_is_the_first_lognormal_of_a_stream_seeded_by_a_float():
    # engine.investigation_factor: a fresh stream per investigation, seeded by a draw
    seeds = random.Random(3)
    for _ in range(20000):
        x = seeds.random()
        assert Stream(x).lognormvariate(0.0, 0.25) == random.Random(x).lognormvariate(0.0, 0.25)


def test_a_long_run_of_one_stream_stays_with_random():
    # past the first 624 words the twister refills its state: many times over here
    ours, theirs = Stream("1/person/sam"), random.Random("1/person/sam")
    assert [ours.gauss(0.0, 1.0) for _ in range(50000)] == [theirs.gauss(0.0, 1.0) for _ in range(50000)]
    assert ours.getrandbits(1000) == theirs.getrandbits(1000)


def test_a_stream_refuses_what_random_refuses():
    with pytest.raises(IndexError, match="empty sequence"):
        Stream(1).choice([])
    with pytest.raises(ValueError, match="non-negative"):
        Stream(1).getrandbits(-1)
    with pytest.raises(TypeError, match="seed"):
        Stream([1, 2])
