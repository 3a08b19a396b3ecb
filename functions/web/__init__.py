"""Server-rendered HTML: Jinja2 templates, autoescaped, usable in an iframe and without JS."""
