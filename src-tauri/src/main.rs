#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    hindsight_alloc::tune();
    hindsight_app::run()
}
