"""Contact normalization, so a returning customer is recognised however they type."""

import re

NON_DIGITS = re.compile(r"\D+")
# Brazil first: national numbers (area code + number, 10 or 11 digits) get +55.
DEFAULT_COUNTRY_CODE = "55"
NATIONAL_MAX_DIGITS = 11


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def normalize_phone(phone: str, *, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """Digits only, with the country code: '+55 (11) 91234-5678' and '011 91234 5678' agree."""
    raw = (phone or "").strip()
    if not raw:
        return ""
    international = raw.startswith("+") or raw.startswith("00")
    digits = NON_DIGITS.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    if not international:
        digits = digits.lstrip("0")  # national trunk prefix
        if len(digits) <= NATIONAL_MAX_DIGITS:
            digits = country_code + digits
    return digits
