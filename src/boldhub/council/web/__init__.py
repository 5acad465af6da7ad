"""The council page (``boldhub council``): a local web app for data officers."""
