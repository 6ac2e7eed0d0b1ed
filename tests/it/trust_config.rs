//! Issue #11 (trust): config. Bad-input cases use the catalogue helpers of `bad_input`.
