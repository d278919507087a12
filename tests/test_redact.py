"""Redaction for the wall display (swarmtui/model/redact.py): secret-looking values masked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from swarmtui.model.actions import EventReceived
from swarmtui.model.redact import MASK, PatternError, Redactor
from swarmtui.model.types import EngineEvent
from tests.uistate import NOW, fixed_swarm

R = Redactor.compile()


@pytest.mark.parametrize(("line", "shown"), [
    ("DB_PASSWORD=hunter2 connecting", f"DB_PASSWORD={MASK} connecting"),
    ("env: API_KEY=abc123, MODE=prod", f"env: API_KEY={MASK}, MODE=prod"),
    ('{"auth_token": "s3cr3t", "user": "bob"}', f'{{"auth_token": "{MASK}", "user": "bob"}}'),
    ("app --password hunter2 --port 80", f"app --password {MASK} --port 80"),
    ("app --token=abc --verbose", f"app --token={MASK} --verbose"),
    ("Credential: xyz", f"Credential: {MASK}"),
    ("export SECRET='a b c'", f"export SECRET='{MASK}'"),
    ("GET /health 200 12ms", "GET /health 200 12ms"),
    ("MODE=prod PORT=8080", "MODE=prod PORT=8080"),
])
def test_text_masks_secret_assignments_only(line: str, shown: str) -> None:
    assert R.text(line) == shown


def test_pairs_mask_values_of_secret_names_and_keep_bare_labels() -> None:
    labels = (("com.example.api_key", "abc"), ("tier", "web"), ("auth", ""))
    assert R.pairs(labels) == (("com.example.api_key", MASK), ("tier", "web"), ("auth", ""))
    plain = (("tier", "web"),)
    assert R.pairs(plain) is plain  # nothing to mask: the same object


def test_args_mask_the_argument_after_a_secret_flag() -> None:
    args = ("serve", "--token", "abc", "--port", "80", "PASSWORD=x", "--auth=y")
    assert R.args(args) == ("serve", "--token", MASK, "--port", "80", f"PASSWORD={MASK}",
                            f"--auth={MASK}")


def test_patterns_are_configurable_and_checked() -> None:
    only_pin = Redactor.compile([r"(?i)pin"])
    assert only_pin.text("PIN=1234 TOKEN=x") == f"PIN={MASK} TOKEN=x"
    assert Redactor.compile([]).text("TOKEN=x") == "TOKEN=x"
    with pytest.raises(PatternError, match="not a regular expression"):
        Redactor.compile(["(unclosed"])


def test_state_redacts_labels_messages_events_and_keeps_identity_of_unchanged_maps() -> None:
    live = fixed_swarm()
    store = live.store
    node = next(iter(store.state.nodes.values()))
    store.dispatch(EventReceived(EngineEvent(
        type="container", action="start", actor_id="c1", scope="local", time_ns=NOW,
        attributes=(("name", "web.1"), ("com.example.secret", "s3")))))
    state = store.state
    state = replace(state, nodes={**state.nodes,
                                  node.id: replace(node, labels=(("vault_token", "t0k"),))})
    shown = R.state(state)
    assert dict(shown.nodes[node.id].labels) == {"vault_token": MASK}
    assert dict(shown.events[-1].attributes) == {"name": "web.1", "com.example.secret": MASK}
    assert shown.tasks.keys() == state.tasks.keys()
    # The next snapshot with the same tasks map reuses the redacted one (screens diff by it).
    again = R.state(replace(state, revision=state.revision + 1), (state, shown))
    assert again.tasks is shown.tasks
    assert again.nodes is shown.nodes
