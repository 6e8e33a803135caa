import HTTPTypes

extension HTTPFields {
    /// The same as `self[name]`, without building a joined string for a field that occurs once,
    /// as nearly every field of a request does (the subscript joins every occurrence into a new
    /// string, which showed in the status read's profile).
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
