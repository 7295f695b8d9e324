import { Suppression } from '../../domain/suppression/suppression.entity';
import { connectionType } from './connection.type';

export const SuppressionConnection = connectionType(Suppression, 'Suppression');
