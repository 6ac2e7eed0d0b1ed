//! Issue #11 (trust): files. Bad-input cases use the catalogue helpers of `bad_input`.
