//! Issue #11 (trust): serve. Bad-input cases use the catalogue helpers of `bad_input`.
