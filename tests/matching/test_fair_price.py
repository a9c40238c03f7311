"""Fair-price context: the quartiles of hourly prices for a kind of support in a council
area and urban-rural class (falling back to Scotland, hidden below 5 offers), what is
counted and what is not, figures that follow price changes, the minimum-pay warning and
its setting, and the offer page that shows them."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from marketplace.app import create_app
from marketplace.money import format_pence
from marketplace.settings import MatchingSettings, Settings
from matching import fair_price as fair_price_service
from matching.fair_price import FairPrice, Position
from matching.index import OfferIndex
from providers import offers as offers_service
from providers.models import Offer, PriceUnit, Provider, Taxonomy
from tests.conftest import make_settings
from tests.factories import make_offer, make_provider, term_ids
from tests.helpers import HtmlClient, page

HIGHLAND_REMOTE_RURAL = ("Portree", "Ullapool", "Broadford", "Dornoch")
"""Places of Highland's remote rural class (6-fold), where providers below are based."""


def quartile(prices: Sequence[int], quarters: int) -> int:
    """The stated method, written out plainly: position (n - 1) * quarters / 4 along the
    sorted prices, linear between neighbours, rounded half up to whole pence."""
    ordered = sorted(prices)
    position = Fraction((len(ordered) - 1) * quarters, 4)
    below = math.floor(position)
    value = Fraction(ordered[below])
    if position > below:
        value += (position - below) * (ordered[below + 1] - ordered[below])
    return math.floor(value + Fraction(1, 2))


def figures(prices: Sequence[int]) -> tuple[int, int, int, int]:
    return len(prices), quartile(prices, 1), quartile(prices, 2), quartile(prices, 3)


def shown(found: FairPrice | None) -> tuple[int, int, int, int]:
    assert found is not None, "the comparison is shown"
    return found.offers, found.lower_quartile_pence, found.median_pence, found.upper_quartile_pence


def kind(db: Session, code: str) -> int:
    return term_ids(db, Taxonomy.KIND_OF_SUPPORT, (code,))[0]


def offers_in(
    db: Session, places: Sequence[str], rates: Sequence[int], **options: object
) -> list[Offer]:
    """One offer at each rate, from providers based in `places` in turn."""
    providers: dict[str, Provider] = {}
    offers = []
    for i, rate in enumerate(rates):
        place = places[i % len(places)]
        if place not in providers:
            providers[place] = make_provider(db, base=place)
        offers.append(make_offer(db, provider=providers[place], rate_pence=rate, **options))  # type: ignore[arg-type]
    return offers


def actor(offer: Offer):  # type: ignore[no-untyped-def]
    return offer.provider.members[0].user


def compare(
    db: Session, offer: Offer, code: str = "personal-care", index: OfferIndex | None = None
) -> FairPrice | None:
    return fair_price_service.fair_price(
        db, index=index or OfferIndex(), offer_id=offer.id, kind_id=kind(db, code)
    )


class TestGroups:
    def test_five_offers_in_the_council_area_and_class_are_compared_together(
        self, db: Session
    ) -> None:
        # Six prices put every quartile between two of them; the lower one rounds half up.
        rates = [1500, 1700, 1702, 1901, 2300, 2551]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        found = compare(db, offers[2])
        assert shown(found) == figures(rates)
        assert found is not None and found.local
        assert found.group == "personal care from providers in Highland's remote rural areas"
        assert found.kind_name == "personal care"
        assert found.hourly_pence == 1702

    def test_the_group_in_plain_words_for_a_council_named_in_the_plural(self, db: Session) -> None:
        offers = offers_in(db, ["Kirkwall"], [1600, 1800, 2000, 2200, 2400])
        found = compare(db, offers[0])
        assert found is not None
        assert found.group == "personal care from providers in Orkney Islands' remote small towns"

    def test_a_group_of_four_is_hidden_and_of_five_shown(self, db: Session) -> None:
        rates = [1600, 1800, 2000, 2200]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        assert compare(db, offers[0]) is None, "four offers, here and across Scotland, are too few"
        offers += offers_in(db, ["Portree"], [2400])
        found = compare(db, offers[0])
        assert shown(found) == figures([*rates, 2400])
        assert found is not None and found.local

    def test_too_few_here_falls_back_to_scotland(self, db: Session) -> None:
        here = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200])
        elsewhere = offers_in(db, ["Inverness", "Dufftown", "Dunfermline"], [1400, 2600, 3000])
        found = compare(db, here[0])
        assert shown(found) == figures([1600, 1800, 2000, 2200, 1400, 2600, 3000])
        assert found is not None and not found.local
        assert found.group == "personal care across Scotland"
        assert shown(compare(db, elsewhere[1])) == shown(found), (
            "Dufftown's one offer is compared the same way"
        )

    def test_another_council_area_or_class_is_not_counted(self, db: Session) -> None:
        rates = [1600, 1800, 2000, 2200, 2400]
        here = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        # Inverness: Highland, but other urban. Dufftown: remote rural, but Moray.
        inverness, _dufftown = offers_in(db, ["Inverness", "Dufftown"], [900, 9000])
        assert shown(compare(db, here[0])) == figures(rates)
        found = compare(db, inverness)
        assert found is not None and not found.local, "Inverness has no group of its own"
        assert shown(found) == figures([*rates, 900, 9000])

    def test_paused_withdrawn_unpublished_one_off_and_other_kinds_are_not_counted(
        self, db: Session
    ) -> None:
        rates = [1600, 1800, 2000, 2200, 2400]
        counted = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        paused, withdrawn = offers_in(db, ["Portree"], [500, 9900])
        offers_service.pause_offer(db, offer=paused, actor=actor(paused))
        offers_service.withdraw_offer(db, offer=withdrawn, actor=actor(withdrawn))
        offers_in(db, ["Portree"], [700], publish=False)
        offers_in(db, ["Portree"], [800], unit=PriceUnit.ONE_OFF)
        offers_in(db, ["Portree"], [9500], kinds=("help-at-home",))
        inverness = offers_in(db, ["Inverness"], [1900])[0]
        index = OfferIndex()
        assert shown(compare(db, counted[0], index=index)) == figures(rates)
        assert shown(compare(db, inverness, index=index)) == figures([*rates, 1900]), (
            "nor across Scotland"
        )
        assert compare(db, paused, index=index) is None, "a paused offer is not compared"
        assert compare(db, counted[0], "help-at-home", index=index) is None, (
            "it does not give help at home"
        )

    def test_prices_are_compared_by_their_hourly_equivalent(self, db: Session) -> None:
        hourly = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200])
        # A visit of 3 hours (the factory's length) for £63.00 is £21.00 an hour.
        visit = offers_in(db, ["Portree"], [6300], unit=PriceUnit.SESSION)[0]
        found = compare(db, visit)
        assert found is not None and found.hourly_pence == 2100
        assert shown(found) == figures([1600, 1800, 2000, 2200, 2100])
        assert shown(compare(db, hourly[0])) == shown(found)

    def test_an_offer_of_two_kinds_counts_in_both(self, db: Session) -> None:
        personal = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200])
        home = offers_in(
            db, HIGHLAND_REMOTE_RURAL, [1500, 1700, 1900, 2100], kinds=("help-at-home",)
        )
        both = offers_in(db, ["Portree"], [2500], kinds=("personal-care", "help-at-home"))[0]
        index = OfferIndex()
        assert shown(compare(db, personal[0], index=index)) == figures(
            [1600, 1800, 2000, 2200, 2500]
        )
        assert shown(compare(db, home[0], "help-at-home", index=index)) == figures(
            [1500, 1700, 1900, 2100, 2500]
        )
        assert compare(db, personal[0], "help-at-home", index=index) is None, (
            "it does not give help at home"
        )
        found = fair_price_service.fair_prices_of_offer(db, index=index, offer_id=both.id)
        assert list(found) == [kind(db, "personal-care"), kind(db, "help-at-home")]


class TestKeepingCurrent:
    def test_the_figures_follow_a_price_change(self, db: Session) -> None:
        rates = [1600, 1800, 2000, 2200, 2400]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        index = OfferIndex()
        before = compare(db, offers[0], index=index)
        assert shown(before) == figures(rates)
        groups = fair_price_service.price_groups(db, index=index)
        assert fair_price_service.price_groups(db, index=index) is groups, (
            "worked out once per generation"
        )

        offers_service.set_price(
            db,
            offer=offers[4],
            actor=actor(offers[4]),
            details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=3100),
        )
        after = compare(db, offers[0], index=index)
        assert shown(after) == figures([1600, 1800, 2000, 2200, 3100])
        assert fair_price_service.price_groups(db, index=index) is not groups

    def test_a_page_of_results_follows_a_price_change(self, db: Session) -> None:
        rates = [1600, 1800, 2000, 2200, 2400]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        index = OfferIndex()

        def results() -> dict[int, FairPrice | None]:
            ids = [offer.id for offer in offers]
            return fair_price_service.fair_prices_for_results(db, index=index, offer_ids=ids)

        before = results()
        assert results()[offers[0].id] is before[offers[0].id], "kept while nothing changes"
        offers_service.set_price(
            db,
            offer=offers[4],
            actor=actor(offers[4]),
            details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=3100),
        )
        after = results()
        assert shown(before[offers[0].id]) == figures(rates)
        assert shown(after[offers[0].id]) == figures([1600, 1800, 2000, 2200, 3100])
        assert after[offers[4].id] is not None and after[offers[4].id].this_price.startswith(
            "At £31.00 an hour"
        )

    def test_a_paused_offer_leaves_the_group(self, db: Session) -> None:
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200, 2400])
        index = OfferIndex()
        assert compare(db, offers[0], index=index) is not None
        offers_service.pause_offer(db, offer=offers[4], actor=actor(offers[4]))
        assert compare(db, offers[0], index=index) is None, "four are left: hidden again"


class TestWhereItSits:
    def test_below_in_and_above_the_middle_half_against_the_median(self, db: Session) -> None:
        rates = [1200, 1800, 2000, 2000, 2200, 2900]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        index = OfferIndex()
        _, lower, median, upper = figures(rates)
        low, middle, high = (compare(db, offers[i], index=index) for i in (0, 2, 5))
        assert low is not None and middle is not None and high is not None
        assert 1200 < lower <= 2000 <= upper < 2900, "the test's rates straddle the quartiles"
        assert (low.position, middle.position, high.position) == (
            Position.BELOW,
            Position.MIDDLE,
            Position.ABOVE,
        )
        assert low.where == "below the middle half"
        assert middle.where == "in the middle half"
        assert high.where == "above the middle half"
        assert low.from_median_pence == 1200 - median
        assert low.against_median == f"{format_pence(median - 1200)} less than the median"
        assert high.against_median == f"{format_pence(2900 - median)} more than the median"
        assert middle.against_median == "the same as the median"


class TestResultsPage:
    def test_the_kind_searched_for_or_else_each_offers_first_kind(self, db: Session) -> None:
        offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200])
        offers_in(db, HIGHLAND_REMOTE_RURAL, [1500, 1700, 1900, 2100], kinds=("help-at-home",))
        both = offers_in(db, ["Portree"], [2500], kinds=("personal-care", "help-at-home"))[0]
        only_home = offers_in(db, ["Portree"], [1300], kinds=("help-at-home",))[0]
        index = OfferIndex()
        ids = [both.id, only_home.id, 999_999]

        searched = fair_price_service.fair_prices_for_results(
            db, index=index, offer_ids=ids, kind_ids=[kind(db, "help-at-home")]
        )
        assert shown(searched[both.id]) == figures([1500, 1700, 1900, 2100, 2500, 1300])
        assert searched[999_999] is None

        unchosen = fair_price_service.fair_prices_for_results(db, index=index, offer_ids=ids)
        first = unchosen[both.id]
        assert first is not None and first.kind_id == kind(db, "personal-care"), (
            "personal care comes first"
        )
        assert shown(first) == figures([1600, 1800, 2000, 2200, 2500])
        assert shown(unchosen[only_home.id]) == shown(searched[both.id]), (
            "its only kind is help at home"
        )

        # Asked for personal care, an offer of help at home only is compared on its own kind.
        other = fair_price_service.fair_prices_for_results(
            db, index=index, offer_ids=ids, kind_ids=[kind(db, "personal-care")]
        )
        assert other[only_home.id] is not None and other[only_home.id].kind_id == kind(
            db, "help-at-home"
        )  # type: ignore[union-attr]


class TestVectorised:
    def test_every_group_matches_the_method_worked_one_group_at_a_time(self) -> None:
        """Synthetic columns with small and large groups, unknown homes, one-off prices and
        removed rows, against the plain method per group."""
        rng = np.random.default_rng(4)
        n = 3_000
        kind_bits = {101: 0, 102: 1, 103: 2, 104: 5}
        live = rng.random(n) < 0.9
        kinds = np.zeros(n, dtype=np.uint64)
        for bit in kind_bits.values():
            kinds |= (rng.random(n) < 0.4).astype(np.uint64) << np.uint64(bit)
        hourly = rng.integers(900, 4000, n).astype(np.int64)
        hourly[rng.random(n) < 0.1] = -1
        council = rng.integers(0, 12, n).astype(np.int16)
        council[rng.random(n) < 0.05] = -1
        class6 = rng.integers(0, 7, n).astype(np.int8)
        groups = fair_price_service.compute_price_groups(
            live=live,
            kinds=kinds,
            hourly_pence=hourly,
            home_council=council,
            home_class6=class6,
            kind_bits=kind_bits,
        )
        local: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        scotland: dict[int, list[int]] = defaultdict(list)
        for row in range(n):
            if not live[row] or hourly[row] < 0:
                continue
            for kind_id, bit in kind_bits.items():
                if int(kinds[row]) >> bit & 1:
                    scotland[kind_id].append(int(hourly[row]))
                    if council[row] >= 0 and class6[row] > 0:
                        local[(kind_id, int(council[row]), int(class6[row]))].append(
                            int(hourly[row])
                        )
        assert set(groups.local) == set(local) and set(groups.scotland) == set(scotland)
        assert any(len(prices) < 4 for prices in local.values()), "some groups are tiny"
        for key, prices in local.items():
            found = groups.local[key]
            assert (
                found.offers,
                found.lower_quartile_pence,
                found.median_pence,
                found.upper_quartile_pence,
            ) == figures(prices), key
        for kind_id, prices in scotland.items():
            found = groups.scotland[kind_id]
            assert (
                found.offers,
                found.lower_quartile_pence,
                found.median_pence,
                found.upper_quartile_pence,
            ) == figures(prices)


class TestPayWarning:
    def test_below_the_default_minimum(self, settings: Settings) -> None:
        minimum = settings.matching.minimum_care_pay_pence
        assert minimum == MatchingSettings().minimum_care_pay_pence == 1345
        warning = fair_price_service.pay_warning(hourly_pence=minimum - 1, minimum_pence=minimum)
        assert warning is not None
        assert warning.message == (
            "This is less than £13.45 an hour, the least adult social care workers in Scotland must be paid. "
            "Ask how the people who would support you are paid."
        )
        assert fair_price_service.pay_warning(hourly_pence=minimum, minimum_pence=minimum) is None
        assert fair_price_service.pay_warning(hourly_pence=None, minimum_pence=minimum) is None, (
            "one-off prices"
        )

    def test_the_setting_overrides_the_minimum(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SDS_MATCHING__MINIMUM_CARE_PAY_PENCE", "1500")
        from_environment = Settings(var_dir=tmp_path)
        assert from_environment.matching.minimum_care_pay_pence == 1500
        warning = fair_price_service.pay_warning(
            hourly_pence=1450, minimum_pence=from_environment.matching.minimum_care_pay_pence
        )
        assert warning is not None and "£15.00 an hour" in warning.message
        with pytest.raises(ValueError, match="greater than 0"):
            MatchingSettings(minimum_care_pay_pence=0)


@pytest.fixture
def app_paying(database_url: str, tmp_path: Path, db: Session) -> Iterator[FastAPI]:
    """The app with the minimum care pay set to £11.00, in the test's transaction."""
    app = create_app(
        make_settings(
            database_url, tmp_path / "var", matching=MatchingSettings(minimum_care_pay_pence=1100)
        )
    )
    app.state.sessionmaker = sessionmaker(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield app
    app.state.engine.dispose()


class TestOfferPage:
    def test_shows_the_comparison_and_the_warning(self, client: HtmlClient, db: Session) -> None:
        rates = [1200, 1800, 2000, 2200, 2400]
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, rates)
        _, lower, median, upper = figures(rates)
        soup = page(client.get(f"/offers/{offers[0].id}"))
        text = soup.get_text(" ", strip=True)
        assert (
            f"Compared with 5 offers of personal care from providers in Highland's remote rural areas: the middle half "
            f"charge {format_pence(lower)} to {format_pence(upper)} an hour, and the median is {format_pence(median)}."
        ) in text
        assert (
            f"At £12.00 an hour, this is below the middle half, {format_pence(median - 1200)} less than the median."
            in text
        )
        warning = soup.select_one(".ds_warning-text")
        assert warning is not None
        assert (
            "This is less than £13.45 an hour, the least adult social care workers in Scotland must be paid."
            in warning.get_text(" ", strip=True)
        )
        assert soup.select_one('a[href="/about/prices"]') is not None

        fair = page(client.get(f"/offers/{offers[1].id}"))
        assert fair.select_one(".ds_warning-text") is None, "£18.00 an hour is above the minimum"
        assert "in the middle half" in fair.get_text(" ", strip=True)

    def test_the_setting_changes_the_warning(self, app_paying: FastAPI, db: Session) -> None:
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, [1200, 1050])
        with HtmlClient(app_paying, before_request=db.flush, after_request=db.expire_all) as client:
            assert (
                page(client.get(f"/offers/{offers[0].id}")).select_one(".ds_warning-text") is None
            )
            below = page(client.get(f"/offers/{offers[1].id}")).get_text(" ", strip=True)
            assert "This is less than £11.00 an hour" in below

    def test_too_few_offers_says_so_instead_of_figures(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800])
        text = page(client.get(f"/offers/{offers[0].id}")).get_text(" ", strip=True)
        assert "Compared with" not in text
        assert "Fewer than 5 offers of personal care across Scotland have an hourly price" in text

    def test_a_one_off_price_has_no_comparison(self, client: HtmlClient, db: Session) -> None:
        offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200, 2400])
        one_off = offers_in(db, ["Portree"], [4000], unit=PriceUnit.ONE_OFF)[0]
        text = page(client.get(f"/offers/{one_off.id}")).get_text(" ", strip=True)
        assert "How this price compares" not in text and "less than £13.45" not in text

    def test_the_page_follows_a_price_change(self, client: HtmlClient, db: Session) -> None:
        offers = offers_in(db, HIGHLAND_REMOTE_RURAL, [1600, 1800, 2000, 2200, 2400])
        assert "At £16.00 an hour, this is below the middle half" in page(
            client.get(f"/offers/{offers[0].id}")
        ).get_text(" ", strip=True)
        offers_service.set_price(
            db,
            offer=offers[0],
            actor=actor(offers[0]),
            details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=2900),
        )
        text = page(client.get(f"/offers/{offers[0].id}")).get_text(" ", strip=True)
        _, _, median, _ = figures([2900, 1800, 2000, 2200, 2400])
        assert (
            f"At £29.00 an hour, this is above the middle half, {format_pence(2900 - median)} more than the median."
            in text
        )

    def test_how_we_compare_prices(self, client: HtmlClient) -> None:
        soup = page(client.get("/about/prices"))
        assert soup.h1 is not None and soup.h1.get_text(strip=True) == "How we compare prices"
        text = soup.get_text(" ", strip=True)
        assert "at least 5 such offers" in text
        assert "at least £13.45 an hour" in text
