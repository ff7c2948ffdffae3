/**
 * `@vmkit/provider-virtualbox`: vmkit's provider for VirtualBox, over its SOAP web service.
 *
 * @packageDocumentation
 */
export {};
