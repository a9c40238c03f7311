"""Forms: parse a posted form into a Pydantic model, and show it again with the design
system's error summary and field errors, keeping what the person typed.

A route calls `await page.read(request, Model)`. Invalid input raises FormInvalid; a
service's RuleBroken or Conflict does the same job; the one error handler then renders
the page's form again, as a whole page or (for htmx) just its form block."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, TypeVar, get_origin

from email_validator import EmailNotValidError, validate_email
from fastapi import Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from marketplace.errors import DomainError, FieldError, RuleBroken
from marketplace.money import parse_pounds
from marketplace.parsing import free_text, parse_date

M = TypeVar("M", bound=BaseModel)


class FormInvalid(RuleBroken):
    """A form that could not be read, with every field's problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].message if errors else "There is a problem")
        self.problems = errors


class Form(BaseModel):
    """Base for form models. `messages` gives the plain-English message for a field whose
    value is missing or of the wrong kind (validators raise their own messages)."""

    model_config = ConfigDict(validate_default=True)
    messages: ClassVar[dict[str, str]] = {}


class NoFields(Form):
    """A button press: nothing to read but the CSRF token."""


class _Several:
    """Marks a form field read from several values (a group of checkboxes), whatever type
    it becomes; every other field reads one value."""


SEVERAL = _Several()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def required(message: str) -> Any:
    def check(value: str) -> str:
        if not value:
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    if not value:
        raise ValueError("Enter your email address")
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValueError(
            "Enter an email address in the correct format, like name@example.com"
        ) from None


def _optional_pounds(value: str) -> int | None:
    return None if not value else parse_pounds(value)


def _as_list(value: Any) -> list[str]:
    """Checkboxes: none ticked sends nothing, one sends a string, several a list."""
    if value in (None, ""):
        return []
    return [value] if isinstance(value, str) else list(value)


def _decimal(value: str, message: str) -> Decimal:
    try:
        number = Decimal(value.strip().removesuffix("%").strip())
    except InvalidOperation:
        raise ValueError(message) from None
    if not number.is_finite():
        raise ValueError(message)
    return number


def _optional_percent(value: Any) -> int | None:
    """'12.5' or '12.5%' -> 1250 basis points; blank -> None."""
    text = str(value or "").strip()
    if not text:
        return None
    number = _decimal(text, "Enter a percentage, like 10 or 12.5")
    exponent = number.as_tuple().exponent  # an int: _decimal let only finite numbers through
    if number < 0 or not isinstance(exponent, int) or exponent < -2:
        raise ValueError("Enter a percentage of 0 or more, with at most 2 decimal places")
    return int(number * 100)


MAX_HOURS_A_WEEK = 168


def parse_hours(text: str) -> int:
    """'6' or '2.5' hours -> 360 or 150 minutes. Raises ValueError with a message for the
    person: nothing, not a number, 0 or less, more than a week, or part minutes."""
    cleaned = text.strip().lower().removesuffix("hours").removesuffix("hour").strip()
    if not cleaned:
        raise ValueError("Enter a number of hours, for example 6 or 2.5")
    number = _decimal(cleaned, "Enter the hours as a number, for example 6 or 2.5")
    if number <= 0:
        raise ValueError("Enter more than 0 hours")
    if number > MAX_HOURS_A_WEEK:
        raise ValueError("A week has 168 hours: enter 168 or fewer")
    minutes = number * 60
    if minutes != minutes.to_integral_value():
        raise ValueError("Enter the hours to the nearest minute, for example 2.5 or 2.25")
    return int(minutes)


def _optional_hours(value: Any) -> int | None:
    """'2.5' hours -> 150 minutes; blank -> None."""
    text = str(value or "").strip()
    return parse_hours(text) if text else None


E = TypeVar("E", bound=enum.Enum)


def parse_choice(enum_class: type[E], value: str) -> E | None:
    """A filter's value from the address: blank is no filter; anything else must be one of
    the options (a 422 saying so, not a server error)."""
    try:
        return enum_class(value) if value else None
    except ValueError:
        raise RuleBroken("Choose one of the options in the list") from None


def _optional_whole_number(value: Any) -> int | None:
    text = str(value or "").strip().replace(",", "")
    if not text:
        return None
    if not re.fullmatch(r"-?[0-9]{1,7}", text):
        raise ValueError("Enter a whole number, like 12")
    return int(text)


Text = Annotated[str, free_text("this answer")]
"""Free text: several lines, '<' and '>' kept (templates escape them), no other control
characters, at most 5,000 characters. One-line answers (names, titles, places) use
`one_line("the title")` from marketplace.parsing instead."""
Email = Annotated[str, BeforeValidator(_strip), AfterValidator(_email)]
OptionalEmail = Annotated[
    str, BeforeValidator(_strip), AfterValidator(lambda v: _email(v) if v else "")
]
OptionalPounds = Annotated[int | None, BeforeValidator(lambda v: _optional_pounds(_strip(v or "")))]
Pounds = Annotated[int, BeforeValidator(lambda v: parse_pounds(str(v or "")))]
"""An amount typed in pounds, in pence; required."""
OptionalPercent = Annotated[int | None, BeforeValidator(_optional_percent)]
"""A percentage as typed, in basis points (12.5% is 1250)."""
OptionalHours = Annotated[int | None, BeforeValidator(_optional_hours)]
"""Hours as typed, in minutes."""
OptionalWholeNumber = Annotated[int | None, BeforeValidator(_optional_whole_number)]
Hours = Annotated[int, BeforeValidator(lambda v: parse_hours(str(v or "")))]
"""Hours as typed, in minutes; required."""
Choices = Annotated[list[str], BeforeValidator(_as_list), SEVERAL]
"""The values of a group of ticked checkboxes."""


def _date(value: Any) -> date:
    return parse_date(str(value or ""))


Day = Annotated[date, BeforeValidator(_date)]
"""A date typed as YYYY-MM-DD, between 1900 and 2200."""
OptionalDay = Annotated[
    date | None, BeforeValidator(lambda v: _date(v) if str(v or "").strip() else None)
]
"""The same, or None when left blank."""


@contextmanager
def fields_named(names: dict[str | None, str | None]) -> Iterator[None]:
    """The services name each field once (`starts_on`); a page may hold several forms,
    each with boxes of its own names, so a problem is shown by the box it is about (None:
    the form as a whole)."""
    try:
        yield
    except DomainError as error:
        error.problems = [
            FieldError(names.get(problem.field, problem.field), problem.message)
            for problem in error.problems
        ]
        error.field = names.get(error.field, error.field)
        raise


def _messages_from(error: ValidationError, model: type[BaseModel]) -> list[FieldError]:
    custom = getattr(model, "messages", {})
    found: dict[str, FieldError] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else None
        if name in found:
            continue
        if item["type"] == "value_error":
            message = str(item["ctx"]["error"]) if "ctx" in item else item["msg"]
        else:
            message = custom.get(name or "", "Check this answer")
        found[name or ""] = FieldError(name, message)
    order = list(model.model_fields)
    return sorted(found.values(), key=lambda e: order.index(e.field) if e.field in order else 99)


async def form_values(request: Request) -> dict[str, Any]:
    """The posted fields; fields given more than once (checkboxes) become lists."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrftoken":
            continue
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    return values


def _one_value_each(values: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A field sent more than once where the form has one box (only a crafted request does
    that) is read as its first value; only checkbox groups (list fields) take several."""
    single = {
        name
        for name, info in model.model_fields.items()
        if get_origin(info.annotation) is not list and SEVERAL not in info.metadata
    }
    return {k: (v[0] if k in single and isinstance(v, list) else v) for k, v in values.items()}


@dataclass
class FormPage:
    """A page built around one form: its template and the block htmx swaps."""

    template: str
    block: str = "form"
    never_echo: tuple[str, ...] = ("password", "current_password", "new_password")
    context: dict[str, Any] = field(default_factory=dict)

    def render(
        self,
        request: Request,
        *,
        values: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        from marketplace.web import render

        shown = {k: v for k, v in (values or {}).items() if k not in self.never_echo}
        errors = errors or []
        return render(
            request,
            self.template,
            self.context
            | context
            | {
                "values": shown,
                "errors": errors,
                "error_for": {e.field: e.message for e in errors},
            },
            status_code=status_code,
            block=self.block,
        )

    def remember(self, request: Request, *, values: dict[str, Any], **context: Any) -> None:
        """For a form read some other way (a file upload): errors show this page again."""
        request.state.form = _PostedForm(self, values, context)

    async def read(
        self,
        request: Request,
        model: type[M],
        *,
        also: Callable[[dict[str, Any]], list[FieldError]] | None = None,
        **context: Any,
    ) -> M:
        """Parse the posted form, remembering it so an error can show the form again.
        `also` checks what needs the database (a place that must exist), so every error
        shows at once rather than one round after another."""
        values = await form_values(request)
        request.state.form = _PostedForm(self, values, context)
        errors: list[FieldError] = []
        parsed = None
        try:
            parsed = model.model_validate(_one_value_each(values, model))
        except ValidationError as error:
            errors = _messages_from(error, model)
        if also is not None:
            failed = {e.field for e in errors}
            errors += [e for e in also(values) if e.field not in failed]
        if errors:
            order = list(model.model_fields)
            errors.sort(key=lambda e: order.index(e.field) if e.field in order else len(order))
            raise FormInvalid(errors)
        assert parsed is not None
        return parsed


@dataclass
class _PostedForm:
    page: FormPage
    values: dict[str, Any]
    context: dict[str, Any]

    def render_errors(self, request: Request, error: DomainError) -> Response:
        return self.page.render(
            request,
            values=self.values,
            errors=error.problems,
            status_code=error.status_code,
            **self.context,
        )
