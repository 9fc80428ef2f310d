"""Phone numbers in templates: `{{ number|phone:country }}` as dialled in the clinic's country,
`{{ number|tel }}` as a tel: link (care/common/phones.py)."""

from django import template

from care.common.phones import phone_display, phone_href

register = template.Library()


@register.filter
def phone(value: object, country: str) -> str:
    return phone_display(value, country)


@register.filter
def tel(value: object) -> str:
    return phone_href(value)
