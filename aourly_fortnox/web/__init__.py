"""What the owner sees: the blueprint's views, access and CSRF, the card, the OAuth browser
flow, the mapping page and the sync log. Only this layer knows the Flask request."""
