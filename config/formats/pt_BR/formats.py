# Português do Brasil, one way everywhere. Django's pt_BR formats are kept but for the
# long date: the month in lower case ("30 de novembro de 2026"), as Portuguese writes it
# (the template filter ``date`` capitalises "F" from Django's month names otherwise).
DATE_FORMAT = r"j \d\e F \d\e Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j \d\e F \d\e Y \à\s H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = r"j \d\e F"
YEAR_MONTH_FORMAT = r"F \d\e Y"
