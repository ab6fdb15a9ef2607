"""Forms, one module per area, beside the views that use them."""
