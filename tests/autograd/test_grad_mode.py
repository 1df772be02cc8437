"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers and decorators."""

import pytest

import ember


def _x():
    return ember.ones(2, requires_grad=True)


def test_no_grad_context_manager_records_nothing_and_restores_on_error():
    x = _x()
    with ember.no_grad():
        y = x * 2
        assert not ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert ember.is_grad_enabled()
    with pytest.raises(ValueError), ember.no_grad():
        raise ValueError("boom")
    assert ember.is_grad_enabled()


def test_no_grad_decorator_with_and_without_parentheses():
    x = _x()

    @ember.no_grad()
    def called():
        return (x * 2).requires_grad

    @ember.no_grad
    def bare():
        """Docstring kept."""
        return ember.is_grad_enabled()

    assert called() is False and bare() is False
    assert bare.__name__ == "bare" and bare.__doc__ == "Docstring kept."
    assert ember.is_grad_enabled()

    class Model:
        @ember.no_grad()
        def predict(self):
            return ember.is_grad_enabled()

    assert Model().predict() is False


def test_enable_grad_inside_no_grad():
    x = _x()

    @ember.enable_grad()
    def inner():
        return (x * 2).requires_grad

    with ember.no_grad():
        assert inner() is True
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled_function_context_and_decorator():
    x = _x()
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def f():
        return (x * 2).requires_grad

    assert ember.is_grad_enabled()          # decorating must not change the caller's mode
    assert f() is False
    assert ember.is_grad_enabled()
    with ember.no_grad(), ember.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_inference_mode_context_decorator_and_false():
    x = _x()
    with ember.inference_mode():
        assert ember.is_inference_mode_enabled() and not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not ember.is_inference_mode_enabled() and ember.is_grad_enabled()

    @ember.inference_mode()
    def f():
        return ember.is_inference_mode_enabled(), (x * 2).requires_grad

    @ember.inference_mode
    def g():
        return ember.is_inference_mode_enabled()

    assert f() == (True, False) and g() is True
    with ember.inference_mode(False):
        assert not ember.is_inference_mode_enabled() and (x * 2).requires_grad


def test_decorated_generator_runs_body_in_mode_and_caller_keeps_its_own():
    x = _x()

    @ember.no_grad()
    def gen():
        sent = yield ember.is_grad_enabled()
        yield (x * sent).requires_grad
        return

    g = gen()
    assert next(g) is False
    assert ember.is_grad_enabled()          # between items the caller's mode is back
    assert (x * 2).requires_grad
    assert g.send(3.0) is False
    with pytest.raises(StopIteration):
        next(g)
    assert ember.is_grad_enabled()


def test_decorated_generator_close_and_throw_run_in_mode():
    seen = []

    @ember.no_grad()
    def gen():
        try:
            yield 1
        except KeyError:
            seen.append(("throw", ember.is_grad_enabled()))
            yield 2
        finally:
            seen.append(("finally", ember.is_grad_enabled()))

    g = gen()
    next(g)
    assert g.throw(KeyError("k")) == 2
    g.close()
    assert seen == [("throw", False), ("finally", False)]
    assert ember.is_grad_enabled()


def test_grad_mode_is_thread_local():
    import threading
    result = {}

    def worker():
        result["enabled"] = ember.is_grad_enabled()

    with ember.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert result["enabled"] is True
