"""Where credentials come from: the broker's own STS (``local``) or upstream AWS (``aws``)."""
