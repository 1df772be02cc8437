"""Samplers: which dataset keys to load, in which order, alone or in batches.

Note [Sampler random streams]
    The random samplers draw from ember's cpu generator exactly the way PyTorch's draw from
    theirs (ember's cpu streams are bit-identical to PyTorch's), so that after the same
    ``manual_seed`` (or with generators seeded alike) they yield the same indices:
    RandomSampler without a generator seeds a fresh Generator with one int64 ``random_()``
    from the default generator each time it is iterated; without replacement it yields
    ``randperm(n)`` once per full pass (and a prefix of one more for the remainder); with
    replacement it yields ``randint(n, (32,))`` chunks and then one of ``num_samples % 32``.
    SubsetRandomSampler is ``randperm(len(indices))``; WeightedRandomSampler one
    ``multinomial`` over the float64 weights. Draws happen when iteration starts, not in
    ``__init__``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import ember

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

_T_co = TypeVar("_T_co", covariant=True)


class Sampler(Generic[_T_co]):
    """Base class of samplers: ``__iter__`` yields dataset keys (or lists of keys, for a
    batch sampler); ``__len__`` is optional but ``len(DataLoader)`` needs it.

    Example:
        >>> from ember.utils.data import Sampler
        >>> class Backwards(Sampler[int]):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n - 1, -1, -1))
        ...     def __len__(self):
        ...         return self.n
        >>> list(Backwards(3))
        [2, 1, 0]
    """

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``.

    Args:
        data_source: anything with ``__len__``.

    Example:
        >>> from ember.utils.data import SequentialSampler
        >>> list(SequentialSampler("abc"))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random keys: a permutation (repeated to reach num_samples), or with replacement.

    Args:
        data_source: anything with ``__len__``.
        replacement: draw with replacement (default False).
        num_samples: how many keys to yield (default ``len(data_source)``).
        generator: the Generator to draw from (default: a fresh one seeded from the default
            generator at each iteration, see Note [Sampler random streams]).

    Raises:
        TypeError: replacement is not a bool.
        ValueError: num_samples is not a positive int.

    Example:
        >>> import ember
        >>> from ember.utils.data import RandomSampler
        >>> list(RandomSampler(range(5), generator=ember.Generator().manual_seed(0)))
        [4, 0, 1, 3, 2]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            seed = int(ember.empty((), dtype=ember.int64).random_().item())
            generator = ember.Generator()
            generator.manual_seed(seed)
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from ember.randint(high=n, size=(32,), dtype=ember.int64,
                                         generator=generator).tolist()
            yield from ember.randint(high=n, size=(self.num_samples % 32,), dtype=ember.int64,
                                     generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from ember.randperm(n, generator=generator).tolist()
            yield from ember.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given keys in random order (without replacement).

    Args:
        indices: the keys.
        generator: the Generator to draw from (default: the default generator).

    Example:
        >>> import ember
        >>> from ember.utils.data import SubsetRandomSampler
        >>> list(SubsetRandomSampler([10, 20, 30], generator=ember.Generator().manual_seed(0)))
        [30, 10, 20]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in ember.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Keys ``0 .. len(weights) - 1`` drawn with probabilities proportional to weights.

    Args:
        weights: a 1-D sequence of non-negative weights (need not sum to one).
        num_samples: how many keys to draw.
        replacement: with replacement (default True); without, a key comes at most once.
        generator: the Generator to draw from.

    Raises:
        ValueError: num_samples not a positive int, replacement not a bool, weights not 1-D.

    Example:
        >>> import ember
        >>> from ember.utils.data import WeightedRandomSampler
        >>> g = ember.Generator().manual_seed(0)
        >>> list(WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, generator=g))
        [5, 4, 4, 5, 4]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if (not isinstance(num_samples, int) or isinstance(num_samples, bool)
                or num_samples <= 0):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_tensor = ember.as_tensor(weights, dtype=ember.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rand_tensor = ember.multinomial(self.weights, self.num_samples, self.replacement,
                                        generator=self.generator)
        yield from iter(rand_tensor.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's keys into lists of batch_size.

    Args:
        sampler: a Sampler or any iterable of keys.
        batch_size: keys per batch.
        drop_last: drop the last, short batch.

    Raises:
        ValueError: batch_size not a positive int, or drop_last not a bool.

    Example:
        >>> from ember.utils.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip stops at the first short group: that is the dropped last batch.
            yield from (list(batch) for batch in zip(*[sampler_iter] * self.batch_size))
        else:
            batch = list(itertools.islice(sampler_iter, self.batch_size))
            while batch:
                yield batch
                batch = list(itertools.islice(sampler_iter, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
