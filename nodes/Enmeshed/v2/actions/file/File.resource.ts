// Unchanged since v1: its operations and their parameters.
export * from '../../../v1/actions/file/File.resource';
