"""Outcome profiles: the built-ins, the checks on a profile file, and the draws."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from smscope.errors import ConfigError
from smscope.receipts.mapping import DEFAULT_MAPPING
from smscope.simulator.profile import Latency, Profile, load_profile
from smscope.statuses import Status

MINIMAL = '[[outcomes]]\nstat = "DELIVRD"\nshare = 1\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_profiles_load_and_their_shares_add_up() -> None:
    for name in ("realistic", "instant"):
        profile = load_profile(name)
        assert profile.name == name
        assert abs(sum(o.share for o in profile.outcomes) - 1) < 1e-9


def test_instant_delivers_everything_at_once() -> None:
    profile = load_profile("instant")
    rng = random.Random(1)
    assert {profile.draw_outcome(rng).stat for _ in range(100)} == {"DELIVRD"}
    assert profile.latency.draw(rng) == 0.0


# what each realistic error code must mean under the default status mapping
REALISTIC_MEANING = {
    ("UNDELIV", "027"): Status.TEMPORARY_ERROR_ABSENCE,
    ("UNDELIV", "006"): Status.TEMPORARY_ERROR_ABSENCE,
    ("UNDELIV", "001"): Status.PERMANENT_ERROR_ABSENCE,
    ("UNDELIV", "011"): Status.PERMANENT_ERROR_PHONE,
    ("UNDELIV", "032"): Status.TEMPORARY_ERROR_PHONE,
    ("REJECTD", "013"): Status.REJECTED,
    ("UNDELIV", "034"): Status.TEMPORARY_ERROR_OPERATOR,
    ("EXPIRED", "000"): Status.EXPIRED,
    ("DELIVRD", "000"): Status.RECEIVED,
}


def test_realistic_error_codes_mean_what_their_labels_say() -> None:
    profile = load_profile("realistic")
    seen = set()
    for outcome in profile.outcomes:
        key = (outcome.stat, outcome.err_text)
        seen.add(key)
        gsm = outcome.gsm_error
        assert DEFAULT_MAPPING.map(outcome.stat, outcome.err_text) == REALISTIC_MEANING[key]
        network = (3, gsm) if gsm is not None else None
        assert DEFAULT_MAPPING.map(outcome.stat, outcome.err_text, network) == \
            REALISTIC_MEANING[key]
    assert seen == set(REALISTIC_MEANING)


def test_realistic_overrides_fix_numbers_ending_0001_0002_0003() -> None:
    profile = load_profile("realistic")
    assert profile.override_for("+33612340001").err == "001"  # type: ignore[union-attr]
    assert profile.override_for("33612340002").err == "027"  # type: ignore[union-attr]
    assert profile.override_for("+33612340003").reply == "STOP"  # type: ignore[union-attr]
    assert profile.override_for("+33612340004") is None


def test_draw_outcome_follows_the_shares() -> None:
    profile = load_profile("realistic")
    rng = random.Random(7)
    draws = [profile.draw_outcome(rng) for _ in range(40_000)]
    for outcome in profile.outcomes:
        share = sum(d is outcome for d in draws) / len(draws)
        assert abs(share - outcome.share) < 0.01 + outcome.share * 0.15, outcome.label


def test_lognormal_latency_has_its_median_and_p95_and_cap() -> None:
    latency = Latency(distribution="lognormal", median="2s", p95="20s")
    rng = random.Random(3)
    draws = sorted(latency.draw(rng) for _ in range(20_000))
    assert statistics.median(draws) == pytest.approx(2.0, rel=0.08)
    assert draws[int(0.95 * len(draws))] == pytest.approx(20.0, rel=0.15)
    capped = Latency(distribution="lognormal", median="2s", p95="20s", max="5s")
    assert max(capped.draw(rng) for _ in range(5_000)) == 5.0


def test_uniform_and_fixed_latency() -> None:
    rng = random.Random(3)
    uniform = Latency(distribution="uniform", min="1m", max=90)
    assert all(60 <= uniform.draw(rng) <= 90 for _ in range(1000))
    assert Latency(distribution="fixed", value="1.5s").draw(rng) == 1.5


def test_minimal_profile_file_gets_defaults_and_its_file_name(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.name == "profile"
    assert profile.receipt.date_digits == 10
    assert profile.overrides == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[outcomes]]\nstat = "DELIVRD"\nshare = 0.5\n', "add up to 0.5"),
        ('[[outcomes]]\nstat = "GONE"\nshare = 1\n', "not a final stat"),
        ('[[outcomes]]\nstat = "ENROUTE"\nshare = 1\n', "not a final stat"),
        ('[[outcomes]]\nstat = "DELIVRD"\nshare = 1.5\n', "outcomes.0] share"),
        ('[[outcomes]]\nstat = "UNDELIV"\nerr = "0 1"\nshare = 1\n', "err"),
        ("outcomes = []\n", "outcomes"),
        ("", "outcomes"),
        (MINIMAL + '[latency]\ndistribution = "lognormal"\nmedian = "2s"\n', "needs p95"),
        (MINIMAL + '[latency]\ndistribution = "uniform"\nmin = 5\nmax = 1\n', "min is larger"),
        (MINIMAL + '[latency]\ndistribution = "fixed"\nvalue = "soon"\n', "not a duration"),
        (MINIMAL + '[latency]\ndistribution = "gamma"\n', "latency] distribution"),
        (MINIMAL + "[receipt]\ndate_digits = 8\n", "date_digits"),
        (MINIMAL + "[mo]\nreply_rate = 0.7\nstop_rate = 0.5\n", "more than 1"),
        (MINIMAL + '[[overrides]]\npattern = ""\n', "non-empty pattern"),
        (MINIMAL + '[[overrides]]\npattern = "*1"\nsubmit_status = "ESME_NOPE"\n',
         "not a command_status"),
        (MINIMAL + "colour = 1\n", "unknown setting"),
        ("[[outcomes]\n", "not valid TOML"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_file_and_the_mistake(
    tmp_path: Path, text: str, says: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert says in message


def test_unknown_profile_name_lists_the_builtins(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="realistic, instant"):
        load_profile(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="neither a built-in"):
        load_profile("fast")


def test_unreadable_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_profile(path)


def test_override_submit_status_by_name_or_number() -> None:
    profile = Profile.model_validate({
        "outcomes": [{"stat": "DELIVRD", "share": 1}],
        "overrides": [{"pattern": "+*99", "submit_status": "esme_rinvdstadr"},
                      {"pattern": "*98", "submit_status": "0x58"}],
    })
    assert profile.override_for("+3361234599").submit_status == 0x0B  # type: ignore[union-attr]
    assert profile.override_for("3361234598").submit_status == 0x58  # type: ignore[union-attr]
