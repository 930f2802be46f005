public enum ModelFormatPlaceholder {}
