"""How things are shown: the wording of numbers, stated values and dates, MyST markup, figure
style and saving, CSV downloads. Uses data and core only."""
