//! Issue #11 (trust): content. Bad-input cases use the catalogue helpers of `bad_input`.
