"""One module per chapter (its domain logic and views); ``chapters.shared`` holds what two or more
chapters need. A chapter imports render, data, core and chapters.shared, never another chapter
or the notebook facade."""
