use serde_json::Value;
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JqError { #[error("{0}")] Compile(String), #[error("{0}")] Runtime(String), #[error("no output")] NoOutput, #[error("{0}")] Budget(String) }
#[derive(Default)] pub struct Budget { pub max_time: std::time::Duration }
#[derive(Debug)] pub struct JqProgram;
impl JqProgram {
    pub fn compile(_e: &str) -> Result<JqProgram, JqError> { Ok(JqProgram) }
    pub fn reduce(&self, s: &Value, _e: &Value, _b: &Budget) -> Result<Value, JqError> { Ok(s.clone()) }
    pub fn test(&self, _s: &Value, _e: &Value, _b: &Budget) -> Result<bool, JqError> { Ok(false) }
}
