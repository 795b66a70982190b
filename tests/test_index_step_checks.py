"""A slice's step is checked before the index is applied, as torch parses it (fuzzer: a 0-d tensor)."""
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(), (3,)])
@pytest.mark.parametrize("index,msg", [(slice(3, -2, 0), "slice step cannot be zero"),
                                        (slice(None, None, -1), "step must be greater than zero")])
def test_bad_slice_steps_raise_value_error_first(shape, index, msg):
    for lib in (mt, torch):
        x = lib.zeros(shape)
        with pytest.raises(ValueError, match=msg):
            x[index]
        with pytest.raises(ValueError, match=msg):
            x[index] = 1.0
